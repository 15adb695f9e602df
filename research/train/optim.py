"""Optimizers from `config.optim`, with the learning rate held in the optimizer state."""

from __future__ import annotations

import optax

OPTIMIZERS = ("adam", "adamw", "sgd")


def build_optimizer(cfg) -> optax.GradientTransformation:
  """clip (global norm) -> coupled L2 -> Adam/AdamW/SGD, lr adjustable in-graph.

  Coupled L2 (`cfg.l2`) adds l2 * param to the gradient before Adam sees it, as
  torch's `Adam(weight_decay=...)` does; decoupled decay is `adamw` with
  `cfg.weight_decay`. The learning rate lives in `opt_state.hyperparams`, so
  reduce-on-plateau can change it inside jit.
  """
  if cfg.name not in OPTIMIZERS:
    raise ValueError(f"Unknown optimizer {cfg.name!r} (config.optim.name); valid: {OPTIMIZERS}")

  def make(learning_rate):
    parts = []
    if cfg.clip_norm:
      parts.append(optax.clip_by_global_norm(cfg.clip_norm))
    if cfg.l2:
      parts.append(optax.add_decayed_weights(cfg.l2))
    if cfg.name == "adam":
      parts.append(optax.adam(learning_rate))
    elif cfg.name == "adamw":
      parts.append(optax.adamw(learning_rate, weight_decay=cfg.weight_decay))
    else:
      parts.append(optax.sgd(learning_rate, momentum=cfg.momentum or None))
    return optax.chain(*parts)

  return optax.inject_hyperparams(make)(learning_rate=cfg.lr)


def get_lr(opt_state):
  return opt_state.hyperparams["learning_rate"]


def set_lr(opt_state, lr):
  return opt_state._replace(hyperparams={**opt_state.hyperparams, "learning_rate": lr})

"""Where MaxCRNN's compile time goes: trace/lower and XLA compile seconds per program and part.

  python benchmarks/maxcrnn_compile.py [--parts conv,bilstm,attention,step,eval,epoch,epoch_plain,cv5]
                                       [--variants base,...] [--repeat 1]

At configs/maxcrnn.py's sizes (160 training windows of 3000 x 1, 40 validation, batch 64,
online augmentation). Each program is a fresh `jax.jit(fn).lower(...)` then `.compile()`
(no persistent cache), timed apart; also the StableHLO text size and the optimized HLO's.
Programs:
  conv       grad of the conv/BN/ReLU/max-pool stack alone (64 x 3000 x 1 -> 64 x 46 x 64)
  bilstm     grad of the two LSTMs + reverse_valid on 64 x 46 x 64
  attention  grad of the additive attention pooling on 64 x 46 x 128
  step       one train step of the whole model (value_and_grad + Adam)
  eval       the forward pass with running statistics (train=False)
  epoch      the engine's epoch (augmentation, scan of the steps, validation, controllers)
  epoch_plain the same without augmentation
  cv5        the epoch vmapped over 5 folds (launch/cv.py's program)
Variants (monkeypatched copies of research/models/crnn.py, not edits): see VARIANTS.
Prints one JSON line per (variant, program, repetition).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("RESEARCH_JAX_CACHE", "off")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import linen as nn  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from research import config_file  # noqa: E402
from research.models import crnn  # noqa: E402
from research.models.lstm import LSTM  # noqa: E402
from research.tasks import build_task  # noqa: E402
from research.train import engine, optim, sampling  # noqa: E402

BATCH, STEPS, CLASSES = 64, 3000, 4


def config():
  return config_file.load(ROOT / "configs" / "maxcrnn.py")


class ConvStack(nn.Module):
  """MaxCRNN's front end alone, copied from its __call__ (no mask)."""
  model: crnn.MaxCRNN

  @nn.compact
  def __call__(self, x):
    m, h = self.model, x
    for i, (features, kernel, pool) in enumerate(zip(m.conv_features, m.kernel_sizes, m.pool_sizes)):
      h = nn.Conv(features, (kernel,), padding="SAME", use_bias=False, name=f"conv_{i}")(h)
      h = nn.relu(nn.BatchNorm(use_running_average=False, momentum=0.99, epsilon=1e-3, name=f"bn_{i}")(h))
      kept = (h.shape[1] // pool) * pool
      h = h[:, :kept].reshape(h.shape[0], kept // pool, pool, h.shape[-1]).max(2)
    return h


class BiLSTM(nn.Module):
  features: int = 64

  @nn.compact
  def __call__(self, h, mask_BT):
    forward, _ = LSTM(self.features, name="lstm_forward")(h, mask_BT)
    backward, _ = LSTM(self.features, name="lstm_backward")(crnn.reverse_valid(h, mask_BT), mask_BT)
    return jnp.concatenate([forward, crnn.reverse_valid(backward, mask_BT)], axis=-1)


def grad_program(module, *inputs, mutable=False):
  """(fn, args): the gradient of sum(module(inputs)) w.r.t. its parameters."""
  variables = module.init(jax.random.PRNGKey(0), *inputs)

  def loss(params, *xs):
    out = module.apply({**variables, "params": params}, *xs, mutable=["batch_stats"] if mutable else False)
    return jnp.sum((out[0] if mutable else out) ** 2)

  return jax.grad(loss), (variables["params"],) + inputs


def data(n: int, seed: int) -> dict:
  rng = np.random.default_rng(seed)
  return {"x": rng.normal(size=(n, STEPS, 1)).astype(np.float32), "y": (np.arange(n) % CLASSES).astype(np.int32)}


def programs(cfg, model_cls):
  """{name: (fn, args, kwargs for jit)} at configs/maxcrnn.py's sizes."""
  meta = {"class_names": [f"c{i}" for i in range(CLASSES)]}
  model = model_cls(num_classes=CLASSES, **{k: v for k, v in cfg.model.to_dict().items() if k != "name"})
  task, optimizer = build_task(cfg.task, meta), optim.build_optimizer(cfg.optim)
  train, val = data(160, 0), data(40, 1)
  state = engine.init_state(jax.random.PRNGKey(0), model, optimizer, train["x"][:1], "min")
  x = jnp.asarray(train["x"][:BATCH])
  mask = jnp.ones((BATCH, 46), bool)
  out = {}
  out["conv"] = grad_program(ConvStack(model), x, mutable=True)
  out["bilstm"] = grad_program(BiLSTM(cfg.model.lstm_features), jnp.ones((BATCH, 46, 64)), mask)
  out["attention"] = grad_program(crnn.AdditiveAttentionPool(cfg.model.attention_features),
                                  jnp.ones((BATCH, 46, 128)), mask)
  batch = {"x": x, "y": jnp.asarray(train["y"][:BATCH]), "weight": jnp.ones(BATCH)}
  out["step"] = (lambda s, b, k: engine.train_step(model, task, optimizer, s, b, k),
                 (state, batch, jax.random.PRNGKey(1)))
  out["eval"] = (lambda v, x: model.apply(v, x, train=False), (state.variables(), x))
  sampler = sampling.from_config(cfg)
  epoch = engine.make_epoch_fn(model, task, optimizer, cfg.train, sampler=sampler,
                               augment=sampling.augment_from_config(cfg))
  out["epoch"] = (epoch, (state, train, val))
  out["epoch_plain"] = (engine.make_epoch_fn(model, task, optimizer, cfg.train, sampler=sampler),
                        (state, train, val))
  stacked = lambda tree: jax.tree_util.tree_map(lambda a: jnp.stack([a] * 5), tree)
  out["cv5"] = (jax.vmap(epoch), (stacked(state), stacked(train), stacked(val)))
  return out


def measure(fn, args) -> dict:
  started = time.perf_counter()
  lowered = jax.jit(fn).lower(*args)
  lowered_at = time.perf_counter()
  compiled = lowered.compile()
  done = time.perf_counter()
  return {"lower_s": round(lowered_at - started, 2), "compile_s": round(done - lowered_at, 2),
          "stablehlo_chars": len(lowered.as_text()), "optimized_hlo_chars": len(compiled.as_text() or "")}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--parts", default="conv,bilstm,attention,step,eval,epoch,epoch_plain,cv5")
  parser.add_argument("--variants", default="base")
  parser.add_argument("--repeat", type=int, default=1)
  args = parser.parse_args()
  cfg = config()
  for repetition in range(args.repeat):
    for variant in args.variants.split(","):
      built = programs(cfg, VARIANTS[variant])
      for part in args.parts.split(","):
        fn, inputs = built[part]
        row = {"variant": variant, "program": part, "repetition": repetition, **measure(fn, inputs)}
        print(json.dumps(row), flush=True)


class Variant(crnn.MaxCRNN):
  """A copy of MaxCRNN.__call__ with switches for the candidate changes (research/ is not edited).

  masked_bn:   BatchNorm statistics over valid entries (the model's behaviour) or plain;
  masked_lstm: the LSTMs get the (B, T) mask and reverse_valid gathers (the model's behaviour),
               or, off, no mask and a plain jnp.flip (exact when every frame of a window is
               valid, which fixed-length sEMG windows are; padded examples have weight 0);
  dropout:     the dropout layers present (the model) or removed (a diagnostic only).
  """
  masked_bn: bool = True
  masked_lstm: bool = True
  use_dropout: bool = True

  @nn.compact
  def __call__(self, x, *, train: bool, mask=None):
    batch, steps, _ = x.shape
    mask_BT = jnp.ones((batch, steps), bool) if mask is None else jnp.asarray(mask, bool)
    h = jnp.where(mask_BT[:, :, None], x, 0.0)
    for i, (features, kernel, pool) in enumerate(zip(self.conv_features, self.kernel_sizes, self.pool_sizes)):
      h = nn.Conv(features, (kernel,), padding="SAME", use_bias=False, name=f"conv_{i}")(h)
      bn_mask = jnp.broadcast_to(mask_BT[:, :, None], h.shape) if self.masked_bn else None
      h = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum, epsilon=1e-3,
                       name=f"bn_{i}")(h, mask=bn_mask)
      h = nn.relu(h)
      kept = (h.shape[1] // pool) * pool
      h = h[:, :kept].reshape(batch, kept // pool, pool, h.shape[-1]).max(2)
      mask_BT = mask_BT[:, :kept].reshape(batch, -1, pool).any(-1)
      h = jnp.where(mask_BT[:, :, None], h, 0)
    drop = (lambda rate, v: nn.Dropout(rate, deterministic=not train)(v)) if self.use_dropout else (lambda r, v: v)
    h = drop(self.conv_dropout, h)
    if self.masked_lstm:
      forward, _ = LSTM(self.lstm_features, name="lstm_forward")(h, mask_BT)
      backward, _ = LSTM(self.lstm_features, name="lstm_backward")(crnn.reverse_valid(h, mask_BT), mask_BT)
      backward = crnn.reverse_valid(backward, mask_BT)
    else:
      forward, _ = LSTM(self.lstm_features, name="lstm_forward")(h)
      backward, _ = LSTM(self.lstm_features, name="lstm_backward")(jnp.flip(h, 1))
      backward = jnp.flip(backward, 1)
    h_BTH = jnp.concatenate([forward, backward], axis=-1)
    pooled = drop(self.dropout, crnn.AdditiveAttentionPool(self.attention_features, name="attention")(h_BTH, mask_BT))
    hidden = drop(self.dropout, nn.relu(nn.Dense(self.dense_features, name="dense")(pooled)))
    return nn.Dense(self.num_classes, name="logits")(hidden)


def variant(**switches):
  return functools.partial(Variant, **switches)


VARIANTS = {
    "base": crnn.MaxCRNN,
    "copy": Variant,  # the copy with every switch as the model: should compile like base
    "plain_bn": variant(masked_bn=False),
    "plain_lstm": variant(masked_lstm=False),
    "plain_bn_lstm": variant(masked_bn=False, masked_lstm=False),
    "no_dropout": variant(use_dropout=False),
}

if __name__ == "__main__":
  main()

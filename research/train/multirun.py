"""Many runs of one config trained together: `jax.vmap` of the engine's pure epoch.

`train_many(config, meta, runs)` trains R runs (CV folds, seeds) as one compiled
program: the train state gets a leading run axis, every run keeps its own
controllers (early stopping, plateau, best weights) and stops on its own; a
stopped run's state is left unchanged by the epoch. Runs that share their data
(seeds) pass it once; runs with their own data (folds) must have equally many
training and validation examples (the CV driver trims folds to a common size).

Each run's init key is `PRNGKey(seed)` exactly as `research.train.fit` makes
it, so run r equals `fit` of that seed on that data, up to float reassociation.
The driver keeps no checkpoints: a multi-run study is re-run, not resumed.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from research.models import build_model
from research.tasks import build_task
from research.train import engine
from research.train import optim
from research.train import sampling


class MultiRunError(RuntimeError):
  """A multi-run study that cannot go on; the message says why."""


@dataclasses.dataclass
class RunSpec:
  """One run: its seed and its own train/validation splits (numpy dicts)."""
  seed: int
  train: dict
  val: dict


@dataclasses.dataclass
class RunResult:
  seed: int
  history: list[dict]  # one row per epoch the run trained (stopped runs stop adding rows)
  variables: dict  # {'params', 'batch_stats'}: best weights when restore_best, else the last
  best_epoch: int
  stopped_epoch: int  # epoch at which early stopping fired; 0 if it never did


def _numeric(split: dict) -> dict:
  return {k: np.asarray(v) for k, v in split.items() if np.asarray(v).dtype.kind in "biuf"}


def _stack(splits: list[dict], what: str):
  """(data, in_axis): one shared copy when every run has the same arrays, else stacked."""
  first = splits[0]
  if all(s is first for s in splits):
    return jax.device_put(_numeric(first)), None
  sizes = [len(s["y"]) for s in splits]
  if len(set(sizes)) > 1:
    raise MultiRunError(f"train_many: runs have {what} splits of different sizes {sizes}; a vmapped "
                        f"program needs equal sizes. Trim them to {min(sizes)} examples "
                        f"(research.studies.cv does) or train them separately.")
  keys = sorted(_numeric(first))
  return jax.device_put({k: np.stack([np.asarray(s[k]) for s in splits]) for k in keys}), 0


def components(config, meta):
  """(model, task, optimizer) as the engine builds them."""
  return build_model(config.model, meta), build_task(config.task, meta), optim.build_optimizer(config.optim)


def _index(tree, r):
  return jax.tree_util.tree_map(lambda a: np.asarray(a[r]), tree)


def train_many(config, meta: dict[str, Any], runs: list[RunSpec], *,
               extra_eval: dict[str, dict] | None = None, eval_every: int = 0,
               log: Callable[[str], None] | None = print) -> list[RunResult]:
  """Trains every run in `runs` at once; returns their histories and best weights.

  `extra_eval` ({name: split}, shared by all runs) is evaluated with the current
  weights every `eval_every` epochs (and at the first epoch); its metrics enter
  the history as `{name}_{metric}` (the seed's target-domain callback).
  """
  if not runs:
    raise MultiRunError("train_many: no runs given")
  model, task, optimizer = components(config, meta)
  train_cfg = config.train
  train_data, train_axis = _stack([r.train for r in runs], "train")
  val_data, val_axis = _stack([r.val for r in runs], "validation")
  example_x = np.asarray(runs[0].train["x"][:1])
  keys = jnp.stack([jax.random.PRNGKey(r.seed) for r in runs])
  state = jax.vmap(lambda k: engine.init_state(k, model, optimizer, example_x, train_cfg.mode))(keys)
  epoch_fn = engine.make_epoch_fn(model, task, optimizer, train_cfg, sampler=sampling.from_config(config),
                                  augment=sampling.augment_from_config(config))
  run_epoch = jax.jit(jax.vmap(epoch_fn, in_axes=(0, train_axis, val_axis)), donate_argnums=0)
  extra = {name: jax.device_put(_numeric(split)) for name, split in (extra_eval or {}).items()}
  run_eval = jax.jit(jax.vmap(
      lambda variables, data: engine.evaluate(model, task, variables, data, train_cfg.eval_batch_size),
      in_axes=(0, None)))

  histories: list[list[dict]] = [[] for _ in runs]
  stopped_at = np.zeros(len(runs), int)
  for epoch in range(1, train_cfg.epochs + 1):
    was_stopped = np.asarray(state.controllers.stopped)
    if was_stopped.all():
      break
    started = time.perf_counter()
    state, metrics = run_epoch(state, train_data, val_data)
    rows = jax.device_get(metrics)  # The one host sync of the epoch.
    bad = np.flatnonzero(rows["nonfinite_step"] >= 0)
    if len(bad):
      raise MultiRunError(f"Non-finite loss at epoch {epoch} in run(s) {bad.tolist()} (seeds "
                          f"{[runs[i].seed for i in bad]}); lower config.optim.lr or set clip_norm.")
    extra_rows = {}
    if extra and eval_every and (epoch % eval_every == 0 or epoch == 1):
      for name, data in extra.items():
        values = jax.device_get(run_eval({"params": state.params, "batch_stats": state.batch_stats}, data))
        extra_rows.update({f"{name}_{k}": v for k, v in values.items()})
    seconds = time.perf_counter() - started
    for r in range(len(runs)):
      if was_stopped[r]:
        continue
      row = {"epoch": epoch, **{k: np.asarray(v[r]).item() for k, v in rows.items()}}
      row.update({k: np.asarray(v[r]).item() for k, v in extra_rows.items()})
      row["seconds"] = seconds
      histories[r].append(row)
      if row["stopped"]:
        stopped_at[r] = epoch
    if log and (epoch == 1 or epoch % 10 == 0):
      active = int((~np.asarray(state.controllers.stopped)).sum())
      monitor = np.asarray(rows[train_cfg.monitor])
      log(f"epoch {epoch}: {active}/{len(runs)} runs active, {train_cfg.monitor} "
          + " ".join(f"{v:.3f}" for v in monitor) + f" ({seconds:.2f}s)")

  best = train_cfg.early_stopping.restore_best
  variables = ({"params": state.best_params, "batch_stats": state.best_batch_stats} if best
               else {"params": state.params, "batch_stats": state.batch_stats})
  best_epochs = np.asarray(state.controllers.best_epoch)
  return [RunResult(seed=runs[r].seed, history=histories[r], variables=_index(variables, r),
                    best_epoch=int(best_epochs[r]), stopped_epoch=int(stopped_at[r]))
          for r in range(len(runs))]


def predict(config, meta, variables, split: dict) -> dict[str, np.ndarray]:
  """`task.predict` outputs of one run's weights on `split` (numpy)."""
  model, task, _ = components(config, meta)
  data = jax.device_put({k: v for k, v in _numeric(split).items() if k in ("x", "mask")})
  fn = jax.jit(lambda v, d: engine.predict(model, task, v, d, config.train.eval_batch_size))
  return jax.device_get(fn(variables, data))

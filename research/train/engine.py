"""The compiled pieces: train state, train step, one epoch, evaluation, prediction.

Everything here is a pure function of arrays, so `jax.vmap` over a leading run
axis trains many runs (seeds, folds) at once, each with its own controllers.

The epoch is three pieces (`make_epoch_pieces`: begin, step, finish) that run one of two ways
(config.train.stepping, `resolve_stepping`):
  scan  one compiled program, `lax.scan` over the steps: fastest wherever the step compiles
        as well inside a loop as alone (LSTMs, TCN, MaxCRNN; every accelerator);
  host  begin, step and finish compiled apart, the step called from a Python loop, each run
        apart (placement). XLA:CPU runs the gradient of its own convolution far slower inside
        `lax.scan` than in a lone step, and a vmapped one (a grouped convolution) slower than
        the runs one by one; stepped from the host it beats the scan with the matmul form for
        the multi-branch InceptionTime, not for the HHT CNN, TCN or MaxCRNN
        (benchmarks/conv_epoch.py; benchmarks/results.md).
  auto  host on one CPU device for a model computing XLA's convolution: `conv` "xla", or "auto"
        in a family of HOST_FAMILIES_ON_CPU (then built with "xla"); scan otherwise.
Both give the same numbers up to float reassociation; each resumes bit for bit.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from research.config_check import RUN_LAYOUTS, STEPPINGS
from research.train import controllers as controllers_lib
from research.train import optim


@struct.dataclass
class TrainState:
  epoch: jnp.ndarray  # completed epochs
  step: jnp.ndarray  # completed optimizer steps
  params: Any
  batch_stats: Any
  opt_state: Any
  rng: jnp.ndarray  # raw uint32[2] key, advanced every epoch
  controllers: controllers_lib.Controllers
  best_params: Any  # weights at the best monitored epoch (restore-best)
  best_batch_stats: Any

  def variables(self, best: bool = False):
    if best:
      return {"params": self.best_params, "batch_stats": self.best_batch_stats}
    return {"params": self.params, "batch_stats": self.batch_stats}


def example_mask(x, valid_B, time_mask=None):
  """The model's `mask`: (B, T) for sequence input (B, T, F), else (B,)."""
  if x.ndim == 3:
    mask = jnp.broadcast_to(valid_B[:, None], x.shape[:2])
    return mask if time_mask is None else mask & time_mask
  return valid_B


def _mask_of(batch):
  return example_mask(batch["x"], batch["weight"] > 0, batch.get("mask"))


def init_state(rng, model, optimizer, example_x, mode: str) -> TrainState:
  """Initialises parameters from `rng` (raw key) with a batch shaped like `example_x`."""
  init_key, state_key = jax.random.split(rng)
  params_key, dropout_key = jax.random.split(init_key)
  x = jnp.zeros((2,) + tuple(example_x.shape[1:]), jnp.float32)
  # Compiled: tracing init op by op costs more than compiling it for the larger models.
  init = jax.jit(functools.partial(model.init, train=False))
  variables = init({"params": params_key, "dropout": dropout_key}, x,
                   mask=example_mask(x, jnp.ones(2, bool)))
  params = variables["params"]
  batch_stats = variables.get("batch_stats", {})
  return TrainState(
      epoch=jnp.int32(0), step=jnp.int32(0), params=params, batch_stats=batch_stats,
      opt_state=optimizer.init(params), rng=state_key,
      controllers=controllers_lib.init(mode),
      # Copies, not aliases: the epoch donates the state's buffers.
      best_params=jax.tree_util.tree_map(jnp.copy, params),
      best_batch_stats=jax.tree_util.tree_map(jnp.copy, batch_stats))


def _weighted_sums(task, outputs, batch):
  """Sums of weight * per-example loss and metrics, and the total weight."""
  weight = batch["weight"]
  sums = {"loss": jnp.sum(weight * task.losses(outputs, batch))}
  for name, values in task.metrics(outputs, batch).items():
    sums[name] = jnp.sum(weight * values)
  return sums, jnp.sum(weight)


def train_step(model, task, optimizer, state: TrainState, batch, key):
  """One optimizer step on `batch` (which carries per-example `weight`).

  Returns (state, sums) with weighted sums of loss/metrics and health norms.
  """
  def loss_fn(params):
    outputs, updates = model.apply(
        {"params": params, "batch_stats": state.batch_stats}, batch["x"], train=True,
        mask=_mask_of(batch), rngs={"dropout": key}, mutable=["batch_stats"])
    sums, total = _weighted_sums(task, outputs, batch)
    return sums["loss"] / jnp.maximum(total, 1.0), (sums, total, updates)

  (_, (sums, total, updates)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
  param_updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, param_updates)
  health = {"grad_norm": optax.global_norm(grads), "param_norm": optax.global_norm(params),
            "update_norm": optax.global_norm(param_updates)}
  state = state.replace(params=params, opt_state=opt_state, step=state.step + 1,
                        batch_stats=updates.get("batch_stats", state.batch_stats))
  return state, (sums, total, health)


def _pad_index(n: int, batch_size: int):
  steps = -(-n // batch_size)
  index = jnp.resize(jnp.arange(n), steps * batch_size).reshape(steps, batch_size)
  weight = (jnp.arange(steps * batch_size) < n).astype(jnp.float32).reshape(steps, batch_size)
  return index, weight


def _gather(data, index, weight):
  batch = jax.tree_util.tree_map(lambda a: a[index], data)
  batch["weight"] = weight
  return batch


def evaluate(model, task, variables, data, batch_size: int, shard_batch: Callable | None = None):
  """Weighted means of loss and metrics over all of `data` (inference mode).

  `shard_batch(batch) -> batch` places each batch (split over devices on a data axis). On one device
  a batch holds at most the whole of `data` (no padding rows to compute beyond it).
  """
  if shard_batch is None:
    batch_size = min(batch_size, len(data["y"]))
  index, weight = _pad_index(len(data["y"]), batch_size)

  def sums_of(idx, w):
    batch = _gather(data, idx, w)
    if shard_batch is not None:
      batch = shard_batch(batch)
    outputs = model.apply(variables, batch["x"], train=False, mask=_mask_of(batch))
    return _weighted_sums(task, outputs, batch)

  def body(carry, inputs):
    return jax.tree_util.tree_map(jnp.add, carry, sums_of(*inputs)), None

  shapes = jax.eval_shape(sums_of, index[0], weight[0])
  init = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
  (sums, total), _ = jax.lax.scan(body, init, (index, weight))
  return {name: value / total for name, value in sums.items()}


def predict(model, task, variables, data, batch_size: int, method: str | None = None):
  """`task.predict` of the model's outputs for every example, in order.

  With `method` (e.g. "encode") the model's method output itself, unchanged.
  """
  n = len(data["x"])
  index, weight = _pad_index(n, min(batch_size, n))

  def body(_, inputs):
    batch = _gather({k: v for k, v in data.items() if k in ("x", "mask")}, *inputs)
    outputs = model.apply(variables, batch["x"], train=False, mask=_mask_of(batch),
                          **({"method": method} if method else {}))
    return None, outputs if method else task.predict(outputs)

  _, stacked = jax.lax.scan(body, None, (index, weight))
  return jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:])[:n], stacked)


_predict_jit = jax.jit(predict, static_argnames=("model", "task", "batch_size", "method"))


def predict_split(model, task, variables, split: dict, batch_size: int, method: str | None = None):
  """`predict` of a numpy split (its `x` and optional `mask`), compiled once per shape, as numpy."""
  data = {k: jax.device_put(np.asarray(v)) for k, v in split.items() if k in ("x", "mask")}
  if len(data["x"]) == 0:  # The outputs' shapes from one dummy example, with no rows.
    one = {k: jnp.zeros((1,) + v.shape[1:], v.dtype) for k, v in data.items()}
    shapes = jax.eval_shape(lambda d: predict(model, task, variables, d, batch_size, method), one)
    return jax.tree_util.tree_map(lambda s: np.zeros((0,) + s.shape[1:], s.dtype), shapes)
  return jax.device_get(_predict_jit(model, task, variables, data, batch_size=batch_size, method=method))


# Model families (config.model.name) that train faster on CPU stepped from the host with XLA's own
# convolution than in the whole-epoch scan with the matmul form (benchmarks/results.md, "Convolutions, second pass").
HOST_FAMILIES_ON_CPU = ("inception_time",)


def resolve_stepping(stepping: str, model_config, backend: str) -> tuple[str, str | None]:
  """(stepping, conv): how the epoch steps ("scan" or "host") and the convolution form to build.

  "scan" and "host" are kept, with the config's `conv` (None for a model without one).
  "auto" steps from the host on CPU when the model computes XLA's convolution: its `conv` is
  "xla", or "auto" in a family of HOST_FAMILIES_ON_CPU (then built with "xla"; that pairing
  measured faster than the scan with the matmul form). Everything else scans: XLA:CPU runs
  the gradient of its convolution slowly inside `lax.scan`, not the other models' steps.
  """
  if stepping not in STEPPINGS:
    raise ValueError(f"config.train.stepping must be one of {list(STEPPINGS)}; found {stepping!r}")
  conv = model_config.get("conv")
  if stepping != "auto":
    return stepping, conv
  if backend != "cpu" or conv is None:
    return "scan", conv
  if conv == "auto" and model_config.get("name") in HOST_FAMILIES_ON_CPU:
    return "host", "xla"
  return ("host" if conv == "xla" else "scan"), conv


def resolve_runs(runs: str, backend: str) -> str:
  """How one program computes a study's runs: "vmap" (batched into one computation) or "sequential"
  (one after another, each as it would alone). "auto": sequential on CPU, where the batched form
  measured as fast or slower (compute bound; benchmarks/results.md, "Runs one after another"),
  vmap elsewhere."""
  if runs not in RUN_LAYOUTS:
    raise ValueError(f"config.train.runs must be one of {list(RUN_LAYOUTS)}; found {runs!r}")
  if runs != "auto":
    return runs
  return "sequential" if backend == "cpu" else "vmap"


@dataclasses.dataclass(frozen=True)
class EpochPieces:
  """One epoch in three pure pieces; `epoch` scans them into one program, a host loop calls them apart.

  begin(state, train_data) -> (rng, plan)          the epoch's next key and its steps' (index, weight, key)
  step(state, train_data, inputs) -> (state, out)  one training step on one row of the plan
  finish(state, new, rng, outs, val_data) -> (state, metrics)
                                                   after the steps (`outs` stacked over steps):
                                                   metrics, validation, controllers, best weights
  """
  begin: Callable
  step: Callable
  finish: Callable

  def step_at(self, state, train_data, plan, i):
    """`step` on row `i` of the plan (one compiled step for every `i`)."""
    return self.step(state, train_data, jax.tree_util.tree_map(lambda a: a[i], plan))

  def epoch(self, state: TrainState, train_data, val_data):
    """The whole epoch: `begin`, `lax.scan` of `step`, `finish`."""
    rng, plan = self.begin(state, train_data)
    new, outs = jax.lax.scan(lambda st, inputs: self.step(st, train_data, inputs), state, plan)
    return self.finish(state, new, rng, outs, val_data)


def make_epoch_pieces(model, task, optimizer, train_cfg, *, sampler: Callable,
                      augment: Callable | None = None, validate: bool = True,
                      shard_batch: Callable | None = None) -> EpochPieces:
  """The pieces of `make_epoch_fn`'s epoch (same arguments), for stepping from the host."""
  step_fn = functools.partial(train_step, model, task, optimizer)
  mode = train_cfg.mode
  es, rop = train_cfg.early_stopping, train_cfg.plateau

  def begin(state: TrainState, train_data):
    rng, sample_key, step_key = jax.random.split(state.rng, 3)
    index, weight = sampler(sample_key, train_data, train_cfg.batch_size)
    keys = jax.random.split(step_key, index.shape[0])
    return rng, (index, weight, keys)

  def step(st: TrainState, train_data, inputs):
    idx, w, key = inputs
    batch = _gather(train_data, idx, w)
    if augment is not None:
      key, augment_key = jax.random.split(key)
      batch = augment(augment_key, batch)
    if shard_batch is not None:
      batch = shard_batch(batch)
    return step_fn(st, batch, key)

  def finish(state: TrainState, new: TrainState, rng, outs, val_data):
    sums, totals, health = outs
    losses = sums["loss"] / jnp.maximum(totals, 1.0)
    bad = ~jnp.isfinite(losses)
    nonfinite_step = jnp.where(bad.any(), jnp.argmax(bad), -1)

    metrics = {name: value.sum() / totals.sum() for name, value in sums.items()}
    metrics.update({name: value.mean() for name, value in health.items()})
    if validate:
      val = evaluate(model, task, new.variables(), val_data, train_cfg.eval_batch_size, shard_batch)
      metrics.update({f"val_{name}": value for name, value in val.items()})
    epoch = state.epoch + 1
    lr = optim.get_lr(new.opt_state)
    metrics["lr"] = lr

    current = metrics[train_cfg.monitor]
    c = new.controllers
    is_best = controllers_lib.improved(current, c.best, mode, es.min_delta)
    if es.enabled:
      c, is_best = controllers_lib.early_stopping(
          c, current, epoch, mode=mode, patience=es.patience, min_delta=es.min_delta)
    else:
      c = c.replace(best=jnp.where(is_best, current, c.best),
                    best_epoch=jnp.where(is_best, epoch, c.best_epoch))
    opt_state = new.opt_state
    if rop.enabled:
      c, lr = controllers_lib.reduce_on_plateau(
          c, current, lr, mode=mode, factor=rop.factor, patience=rop.patience,
          min_delta=rop.min_delta, cooldown=rop.cooldown, min_lr=rop.min_lr)
      opt_state = optim.set_lr(opt_state, lr)
    pick = lambda a, b: jax.tree_util.tree_map(lambda x, y: jnp.where(is_best, x, y), a, b)
    new = new.replace(
        epoch=epoch, rng=rng, controllers=c, opt_state=opt_state,
        best_params=pick(new.params, state.best_params),
        best_batch_stats=pick(new.batch_stats, state.best_batch_stats))

    keep_old = bad.any() | state.controllers.stopped
    new = jax.tree_util.tree_map(lambda old, fresh: jnp.where(keep_old, old, fresh), state, new)
    metrics["nonfinite_step"] = nonfinite_step
    metrics["is_best"] = is_best
    metrics["stopped"] = new.controllers.stopped
    return new, metrics

  return EpochPieces(begin, step, finish)


def make_epoch_fn(model, task, optimizer, train_cfg, *, sampler: Callable,
                  augment: Callable | None = None, validate: bool = True,
                  shard_batch: Callable | None = None) -> Callable:
  """Builds `epoch_fn(state, train_data, val_data) -> (state, metrics)`.

  One call: sample and gather batches on device, transform each with
  `augment(key, batch) -> batch` when given, `lax.scan` the train step,
  evaluate the validation split (unless `validate` is False: a run without one),
  update the controllers and the learning rate. `shard_batch(batch) -> batch`
  places every training and validation batch (split over devices on a data axis).
  A non-finite loss keeps the incoming state and reports the first bad step
  (`nonfinite_step`, -1 when all were finite); a stopped run is left unchanged.
  """
  return make_epoch_pieces(model, task, optimizer, train_cfg, sampler=sampler, augment=augment,
                           validate=validate, shard_batch=shard_batch).epoch

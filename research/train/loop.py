"""The one host loop: R runs of one config trained as one compiled program, resumable.

`train_many(config, meta, runs, checkpoint_dir=...)` trains R runs (seeds, CV
folds, sweep points, ensemble members) together: the train state has a leading
run axis, every run keeps its own controllers (early stopping, plateau, best
weights) and stops on its own; a stopped run's state is left unchanged. Runs
that share their data (seeds) pass it once; runs with their own data (folds)
must have equally many training and validation examples.

A single run (`research.train.fit`) is this loop with R = 1: its epoch is the
engine's epoch on the squeezed state, so it is the same program as one run
alone. Run r is initialised alone from `PRNGKey(seed_r)` (never under vmap), so
it equals the single run of that seed up to float reassociation in the epoch.

With `checkpoint_dir` the stacked state and every run's history are saved every
`config.train.checkpoint_every` epochs (and at the end); calling again with the
same arguments resumes from the newest checkpoint and gives bit for bit what an
uninterrupted call gives.

The runs train on the mesh of `config.mesh` (research.train.mesh,
research.train.placement): by default side by side over every device (the run
axis sharded, padded with stopped runs to a multiple of the device count), or
with each batch split over the devices (`axis: data`). On one device the program
is the same as before meshes existed.
"""

from __future__ import annotations

import dataclasses
import pathlib
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from research.models import build_model
from research.tasks import build_task
from research.train import checkpoint
from research.train import engine
from research.train import interrupt
from research.train import mesh as mesh_lib
from research.train import optim
from research.train import placement as placement_lib
from research.train import sampling
from research.train.specs import CheckpointMismatch, RunResult, RunSpec, TrainingError


def _numeric(split: dict) -> dict:
  return {k: np.asarray(v) for k, v in split.items() if np.asarray(v).dtype.kind in "biuf"}


def _stack(splits: list[dict], what: str):
  """(numpy data, in_axis): one shared copy when every run has the same arrays, else stacked."""
  first = splits[0]
  if all(s is first for s in splits):
    return _numeric(first), None
  sizes = [len(s["y"]) for s in splits]
  if len(set(sizes)) > 1:
    raise TrainingError(f"train_many: runs have {what} splits of different sizes {sizes}; a vmapped "
                        f"program needs equal sizes. Trim them to {min(sizes)} examples "
                        f"(research.studies.cv does) or train them separately.")
  keys = sorted(_numeric(first))
  return {k: np.stack([np.asarray(s[k]) for s in splits]) for k in keys}, 0


@dataclasses.dataclass(frozen=True)
class Components:
  """What a config builds for training: built once per run (research.train.run), shared by its runs."""
  model: Any
  task: Any
  optimizer: Any
  stepping: str = "scan"  # how the epoch steps: "scan" or "host" (engine.resolve_stepping)
  runs: str = "vmap"  # how one program computes several runs: "vmap" or "sequential" (engine.resolve_runs)


def components(config, meta) -> Components:
  """The model, task and optimizer of `config` for data described by `meta`, and how its epoch steps.

  `config.train.stepping` (absent in older configs: "scan") "auto" may build the model with XLA's
  convolution to step from the host (engine.resolve_stepping); only on one device, where the epoch
  can step from the host."""
  stepping = config.train.get("stepping", "scan")
  if stepping == "auto" and jax.device_count() > 1:
    stepping = "scan"
  stepping, conv = engine.resolve_stepping(stepping, config.model, jax.default_backend())
  model_config = config.model
  if conv != model_config.get("conv"):
    model_config = model_config.copy_and_resolve_references()
    model_config.conv = conv
  runs = engine.resolve_runs(config.train.get("runs", "vmap"), jax.default_backend())
  return Components(build_model(model_config, meta), build_task(config.task, meta),
                    optim.build_optimizer(config.optim), stepping, runs)


def _index(tree, r):
  return jax.tree_util.tree_map(lambda a: np.asarray(a[r]), tree)


def init_states(model, optimizer, example_x, mode: str, seeds: list[int]) -> engine.TrainState:
  """The stacked initial state (R, ...): each run initialised alone from PRNGKey(seed).

  Not under vmap: batched orthogonal initialisation runs LAPACK QR kernels that
  split their batch over XLA's intra-op thread pool and block until the parts
  finish; two such kernels in flight at once (eager dispatch is asynchronous)
  can take every thread of a small pool and wait on each other forever.
  """
  states = [engine.init_state(jax.random.PRNGKey(seed), model, optimizer, example_x, mode) for seed in seeds]
  return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *states)


def _with_learning_rates(state: engine.TrainState, runs: list[RunSpec], default: float):
  """Each run's own learning rate in its optimizer state (the rate the epoch reads and plateau lowers)."""
  rates = jnp.asarray([default if r.lr is None else r.lr for r in runs], jnp.float32)
  return state.replace(opt_state=optim.set_lr(state.opt_state, rates))


def _nonfinite_message(epoch, rows, bad, runs, checkpoint_dir, last_saved) -> str:
  where = (f"the last good checkpoint (epoch {last_saved}) is kept in {checkpoint_dir}"
           if checkpoint_dir is not None and last_saved is not None else "no checkpoint was written")
  steps = ", ".join(str(int(rows["nonfinite_step"][r]) + 1) for r in bad)
  runs_text = "" if len(runs) == 1 else f" in run(s) {bad.tolist()} (seeds {[runs[i].seed for i in bad]})"
  return (f"Non-finite loss at epoch {epoch}, step {steps}{runs_text}; the run stopped and {where}. "
          f"Lower config.optim.lr or set config.optim.clip_norm.")


def train_many(config, meta: dict[str, Any], runs: list[RunSpec], *, built: Components | None = None,
               checkpoint_dir=None, extra_eval: dict[str, dict] | None = None, eval_every: int = 0,
               on_epoch: Callable[[list[list[dict]]], None] | None = None,
               log: Callable[[str], None] | None = print) -> list[RunResult]:
  """Trains (or resumes) every run in `runs` at once; returns their histories and weights.

  `extra_eval` ({name: split}, shared by all runs) is evaluated with the current
  weights every `eval_every` epochs (and at the first epoch); its metrics enter
  the history as `{name}_{metric}` (the transfer study's target-domain curve).
  `on_epoch(histories)` is called after every epoch (the single run writes its
  history file and events there). `built`: the config's components when the caller has them.
  """
  if not runs:
    raise TrainingError("train_many: no runs given")
  built = built or components(config, meta)
  model, task, optimizer = built.model, built.task, built.optimizer
  train_cfg = config.train
  seeds = [int(r.seed) for r in runs]
  rates = None if all(r.lr is None for r in runs) else [float(config.optim.lr if r.lr is None else r.lr)
                                                        for r in runs]
  batch_sizes = (int(train_cfg.batch_size), int(train_cfg.eval_batch_size))
  placement = placement_lib.Placement(mesh_lib.build(config, len(runs), batch_sizes), len(runs), *batch_sizes)
  train_data, train_axis = _stack([r.train for r in runs], "train")
  val_data, val_axis = _stack([r.val for r in runs], "validation")
  train_data, val_data = placement.data(train_data, train_axis), placement.data(val_data, val_axis)
  example_x = np.asarray(runs[0].train["x"][:1])
  state = init_states(model, optimizer, example_x, train_cfg.mode, seeds)
  if rates is not None:
    state = _with_learning_rates(state, runs, float(config.optim.lr))
  state = placement.state(state)
  histories: list[list[dict]] = [[] for _ in runs]
  stopped_at = np.zeros(len(runs), int)
  identity = {"seeds": seeds, **({"learning_rates": rates} if rates is not None else {})}

  mgr = None
  last_saved = None
  if checkpoint_dir is not None:
    mgr = checkpoint.manager(checkpoint_dir, train_cfg.monitor, train_cfg.mode)
    try:
      restored = checkpoint.restore_latest(mgr, placement.checkpoint_like(state), set_aside_broken=True)
    except checkpoint.NoIntactCheckpointError as error:
      raise TrainingError(str(error)) from error
    except checkpoint.CheckpointMismatchError as error:
      raise CheckpointMismatch(f"{error}. Nothing was moved or retrained: set the changed config fields back "
                               "to resume it, or train in a new --workdir.") from error
    if restored is not None:
      state, saved, last_saved = restored
      state = placement.from_checkpoint(state)
      if saved.get("seeds") != seeds:
        raise TrainingError(f"{checkpoint_dir} holds runs with seeds {saved.get('seeds')}, not {seeds}; "
                            "choose a new --workdir or restore the old settings")
      if saved.get("learning_rates") != identity.get("learning_rates"):
        raise TrainingError(f"{checkpoint_dir} holds runs with learning rates {saved.get('learning_rates')}, "
                            f"not {rates}; choose a new --workdir or restore the old settings")
      histories, stopped_at = saved["histories"], np.asarray(saved["stopped_at"], int)
      if log:
        log(f"Resuming {checkpoint_dir} after epoch {last_saved}.")

  pieces = engine.make_epoch_pieces(model, task, optimizer, train_cfg, sampler=sampling.from_config(config),
                                    augment=sampling.augment_from_config(config),
                                    validate=len(runs[0].val["y"]) > 0, shard_batch=placement.shard_batch())
  stepping = built.stepping
  if stepping == "host" and not placement.one_device:
    stepping = "scan"
    if log:
      log(f"config.train.stepping 'host' is for one device; the {placement.mesh.size}-device mesh scans the epoch.")
  run_epoch = placement.epoch_program(pieces, train_axis, val_axis, stepping, built.runs)
  extra = {name: placement.data(_numeric(split), None) for name, split in (extra_eval or {}).items()}
  run_eval = placement.eval_program(
      lambda variables, data: engine.evaluate(model, task, variables, data, train_cfg.eval_batch_size,
                                              placement.shard_batch()), built.runs)

  def save(epoch):
    nonlocal last_saved
    monitored = [h[-1][train_cfg.monitor] for h in histories if h]
    checkpoint.save(mgr, epoch, placement.for_checkpoint(state),
                    {"histories": histories, "stopped_at": stopped_at.tolist(), **identity},
                    {train_cfg.monitor: float(np.mean(monitored)) if monitored else 0.0})
    last_saved = epoch

  epoch = int(np.max(placement.to_host(state.epoch)))
  stopped = np.asarray(placement.to_host(state.controllers.stopped))  # of the real runs, kept on the host
  try:
    with interrupt.graceful() as stop:
      while epoch < train_cfg.epochs:
        was_stopped = stopped
        if was_stopped.all():
          break
        started = time.perf_counter()
        state, metrics = run_epoch(state, train_data, val_data)
        rows = placement.to_host(metrics)  # The one host sync of the epoch.
        stopped = np.asarray(rows["stopped"])
        epoch += 1
        bad = np.flatnonzero(rows["nonfinite_step"] >= 0)
        if len(bad):
          raise TrainingError(_nonfinite_message(epoch, rows, bad, runs, checkpoint_dir, last_saved))
        if extra and eval_every and (epoch % eval_every == 0 or epoch == 1):
          for name, data in extra.items():
            values = placement.to_host(run_eval(state.variables(), data))
            rows.update({f"{name}_{k}": v for k, v in values.items()})
        seconds = time.perf_counter() - started
        for r in np.flatnonzero(~was_stopped):
          row = {"epoch": epoch, **{k: np.asarray(v[r]).item() for k, v in rows.items()}, "seconds": seconds}
          histories[r].append(row)
          if row["stopped"]:
            stopped_at[r] = epoch
        done = epoch >= train_cfg.epochs or bool(stopped.all())
        if mgr is not None and (done or stop or epoch % train_cfg.checkpoint_every == 0):
          save(epoch)
        if on_epoch:
          on_epoch(histories)
        if log and len(runs) > 1 and (epoch == 1 or epoch % 10 == 0):
          active = int((~stopped).sum())
          monitor = np.asarray(rows[train_cfg.monitor])
          log(f"epoch {epoch}: {active}/{len(runs)} runs active, {train_cfg.monitor} "
              + " ".join(f"{v:.3f}" for v in monitor) + f" ({seconds:.2f}s)")
        if stop and not done:
          saved = (f"epoch {epoch} is saved in {checkpoint_dir}; run the same command to resume"
                   if mgr is not None else "nothing was saved (no checkpoint folder)")
          raise interrupt.Interrupted(f"{stop.name} after epoch {epoch}: {saved}.", stop.signal_number)
      if mgr is not None and last_saved is None:
        save(epoch)  # No epoch to train (epochs 0, or resumed at the end): keep the state all the same.
  finally:
    if mgr is not None:
      mgr.wait_until_finished()

  restore_best = train_cfg.early_stopping.restore_best
  best = placement.to_host(state.variables(best=True))
  last = placement.to_host(state.variables())
  best_epochs = np.asarray(placement.to_host(state.controllers.best_epoch))
  return [RunResult(seed=seeds[r], history=histories[r],
                    variables=_index(best if restore_best else last, r), last_variables=_index(last, r),
                    best_epoch=int(best_epochs[r]), stopped_epoch=int(stopped_at[r]))
          for r in range(len(runs))]


def group_slices(count: int, group_size: int, unit: int = 1) -> list[slice]:
  """Consecutive groups of at most `group_size` of `count` runs (0: one group), never splitting a
  block of `unit` runs (a spec's ensemble members); a group holds at least one block."""
  size = count if group_size <= 0 else max(unit, group_size // unit * unit)
  return [slice(start, min(start + size, count)) for start in range(0, count, size)]


def train_in_groups(config, meta: dict[str, Any], runs: list[RunSpec], *, group_size: int = 0, unit: int = 1,
                    checkpoint_dir=None, on_epoch: Callable[[list[list[dict]]], None] | None = None,
                    **kwargs) -> list[RunResult]:
  """`train_many` over consecutive groups of runs (`group_slices`), one program per group.

  Vmapping helps while the runs' work is small; beyond that R runs in one program can
  cost more per epoch than R alone (MaxCRNN, 20 runs: 1.6x, benchmarks/results.md).
  With one group this is `train_many` itself, checkpoints included; with several, group
  g checkpoints under checkpoint_dir/runs_<first>-<last> and resumes from there.
  """
  slices = group_slices(len(runs), group_size, unit)
  results: list[RunResult] = []
  for part in slices:
    directory = checkpoint_dir
    if checkpoint_dir is not None and len(slices) > 1:
      directory = pathlib.Path(checkpoint_dir) / f"runs_{part.start:03d}-{part.stop - 1:03d}"
    done = [r.history for r in results]
    report = None if on_epoch is None else (lambda histories, done=done: on_epoch(done + histories))
    results += train_many(config, meta, runs[part], checkpoint_dir=directory, on_epoch=report, **kwargs)
  return results

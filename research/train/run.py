"""The one path from a config to trained runs: checked once, data prepared once, components built once.

  fit(config, dataset, workdir)   one run into a workdir (launch/train.py, the benchmark):
                                  check -> load the data if not given -> train_runs -> heads -> report
  train_runs(config, meta, specs) many runs of one config (the studies, and fit with one spec):
                                  static augmentation -> validation policy -> model, task and
                                  optimizer built once -> the host loop (research.train.loop)
                                  -> the heads fitted on each run's features
Both start from a config checked once (`check_config`): `fit` checks it, a study checks its
configs where it starts (research.studies.common.check) and then calls `train_runs`.

A run is optional network -> optional head -> report, whatever its config: the
network trains in the host loop (one run is one of many; its checkpoints resume
exactly), the head is fitted on its features (refitted on resume).
"""

from __future__ import annotations

import dataclasses
import pathlib

import jax
import numpy as np

from research import config_check
from research import distributed
from research import heads as heads_lib
from research import workdir as workdir_lib
from research import workdir_lock
from research.data import dataset as dataset_lib
from research.tasks import build_task
from research.train import reporting
from research.train import resume
from research.train import trained as trained_lib
from research.train import validation
from research.train.specs import CheckpointMismatch, RunSpec
from research.train.trained import Run, dataset_meta, has_head, has_network, members


def check_config(config) -> None:
  """The config's training fields, checked once where a path starts, before any data is read or
  any file written (research.config_check)."""
  if "auto" in config:
    raise config_check.ConfigError(
        "this config chooses among candidate configs (config.auto): launch/train.py cross-validates them "
        "and trains the winner; give cv, ablate, sweep, transfer or benchmark one candidate's config instead")
  config_check.validate(config, has_network(config), has_head(config))
  if has_network(config):
    from research import models  # flax, optax and the engine only where a network trains (train/specs.py)
    from research.models import conv as conv_lib
    from research.train import engine
    models.model_class(config.model)
    _, conv = engine.resolve_stepping(config.train.get("stepping", "scan"), config.model, jax.default_backend())
    if conv is not None:
      conv_lib.resolve_impl(conv)


@dataclasses.dataclass
class Trained:
  """One trained spec: the run with its best weights, and with its last ones."""
  best: Run
  last: Run
  results: list  # the members' specs.RunResult (empty without a network)
  validation: str | None = None  # how the network used its validation split (research.train.validation)


def fit(config, dataset: dataset_lib.Dataset | None = None, workdir=None) -> dict:
  """Trains (or resumes) the run in `workdir`, fits its head, then reports it.

  `dataset`: the config's data when the caller has them (read here when None). The workdir's
  lock (research.workdir_lock) is held throughout: a second training of it is refused.
  Returns the report dict that is also written to report.json.
  """
  if workdir is None:
    raise ValueError("fit needs a workdir (the run's folder)")
  check_config(config)
  if dataset is None:
    from research.data import load_dataset
    dataset = load_dataset(config)
  if has_network(config):
    _check_batch_sizes(config, [dataset.train], [dataset.train, dataset.val, dataset.test])
  with workdir_lock.hold(workdir):  # One writer per workdir; a second training is refused, named.
    return _fit(config, dataset, workdir)


def _check_batch_sizes(config, train_splits: list[dict], splits: list[dict]) -> None:
  """Refuses batch sizes that cannot fit in memory for data this small (research.config_check.batch_fits)."""
  shape = np.shape(train_splits[0]["x"])[1:]
  config_check.batch_fits("train.batch_size", config.train.batch_size, max(len(s["y"]) for s in train_splits),
                          shape)
  config_check.batch_fits("train.eval_batch_size", config.train.eval_batch_size,
                          max(len(s["y"]) for s in splits), shape)


def _fit(config, dataset, workdir) -> dict:
  previous = workdir_lib.read_json(pathlib.Path(workdir) / "config.json") if (
      pathlib.Path(workdir) / "config.json").is_file() else None
  resume.check(workdir, config)  # Before config.json is rewritten: a changed optimizer is refused, named.
  workdir = workdir_lib.start(workdir, config)
  meta = dataset_meta(dataset)
  workdir_lib.check_data(workdir, meta)
  workdir_lib.write_json_atomic(workdir / "dataset.json", meta)
  spec = RunSpec(seed=int(config.seed), train=dataset.train, val=dataset.val)
  network = has_network(config)
  recorder = reporting.Recorder(workdir, config) if network and distributed.is_writer() else None
  try:
    trained = train_runs(
        config, meta, [spec], checkpoint_dir=workdir / "checkpoints" if network else None,
        on_epoch=recorder.epoch if recorder else None, log=lambda text: print(text, flush=True))[0]
  except CheckpointMismatch as error:
    if previous is None:
      raise
    workdir_lib.write_json_atomic(workdir / "config.json", previous)  # The checkpoint's own settings.
    changes = resume.all_changes(previous, workdir_lib.config_json(config))
    raise CheckpointMismatch(f"{error} Fields changed since it was saved: "
                             f"{'; '.join(changes) or 'none in config.json'}.") from error
  finally:
    if recorder:
      recorder.close()
  if trained.validation:  # What was trained: the validation policy may change the monitor and stopping.
    workdir_lib.write_json_atomic(workdir / "config.json", workdir_lib.config_json(trained.best.config))
    workdir_lib.write_json_atomic(workdir / "dataset.json", {**meta, "validation": trained.validation})
  if has_head(config) and distributed.is_writer():
    heads_lib.save(workdir / trained_lib.HEAD_DIR / "final", trained.best.head, trained.best.feature_map,
                   info={"network_weights": "best" if network else None})
    if network:
      heads_lib.save(workdir / trained_lib.HEAD_DIR / "latest", trained.last.head, trained.last.feature_map,
                     info={"network_weights": "last"})
  distributed.barrier("heads saved")  # Every process reports from the same files; process 0 writes.
  return reporting.report(workdir, config.eval.split, dataset=dataset)


def _with_static_augmentation(config, specs: list[RunSpec]) -> list[RunSpec]:
  """Each spec's training split with static augmentation's copies (config.augment.mode == "static").

  The one place a run's data are augmented before training; specs sharing a split
  (seeds) keep sharing one augmented copy.
  """
  from research.data import transforms  # jax-only; imported where used
  augmented = {}
  for spec in specs:
    if id(spec.train) not in augmented:
      augmented[id(spec.train)] = transforms.static_train_split(config, spec.train)
  return [dataclasses.replace(s, train=augmented[id(s.train)]) for s in specs]


def _stack(trees):
  return trees[0] if len(trees) == 1 else jax.tree_util.tree_map(lambda *a: np.stack(a), *trees)


def _same_weights(config, results) -> bool:
  """Whether the best weights are the last ones (no network, no restore-best, or best = last epoch)."""
  if not results or not config.train.early_stopping.restore_best:
    return True
  return all(not r.history or r.best_epoch == r.history[-1]["epoch"] for r in results)


def train_runs(config, meta: dict, specs: list[RunSpec], *, checkpoint_dir=None, extra_eval=None,
               on_epoch=None, log=print) -> list[Trained]:
  """Trains every spec's network (all members of all specs as one program, or in groups of
  `config.train.runs_per_program` runs), then fits its head. The caller has checked `config`
  (check_config) before reading data or writing files.

  Member m of a spec trains from seed spec.seed + m. `config.train.validation`
  decides whether the validation split is used (research.train.validation). The
  head is fitted on the spec's training split, for the best and (when they differ)
  the last weights.
  """
  if has_network(config):
    _check_batch_sizes(config, [s.train for s in specs], [split for s in specs for split in (s.train, s.val)])
  specs = _with_static_augmentation(config, specs)
  plans = [validation.plan(config, s.train, s.val) for s in specs]
  config, statement = plans[0].config, plans[0].statement
  specs = [dataclasses.replace(s, train=p.train, val=p.val) for s, p in zip(specs, plans)]
  count = members(config)
  network = has_network(config)
  built = None
  if network:
    from research.train import loop  # flax and optax only where a network trains (train/specs.py)
    built = loop.components(config, meta)
  base = Run(config=config, meta=meta, model=built.model if built else None,
             task=built.task if built else build_task(config.task, meta), num_members=count)
  if network:
    expanded = [dataclasses.replace(s, seed=s.seed + m) for s in specs for m in range(count)]
    every = int(config.get("transfer", {}).get("every", 0) or 0)
    results = loop.train_in_groups(config, meta, expanded, built=built,
                                   group_size=int(config.train.get("runs_per_program", 0)), unit=count,
                                   checkpoint_dir=checkpoint_dir, extra_eval=extra_eval, eval_every=every,
                                   on_epoch=on_epoch, log=log)
    trained = []
    for i in range(len(specs)):
      group = results[i * count:(i + 1) * count]
      best = dataclasses.replace(base, variables=_stack([r.variables for r in group]),
                                 histories=[r.history for r in group])
      last = dataclasses.replace(best, variables=_stack([r.last_variables for r in group]))
      trained.append(Trained(best=best, last=last, results=group, validation=statement))
  else:
    trained = [Trained(best=base, last=base, results=[], validation=statement) for _ in specs]
  if not has_head(config):
    return trained
  out = []
  for spec, t in zip(specs, trained):
    best = trained_lib.fit_head(t.best, spec.train, spec.seed)
    last = best if _same_weights(config, t.results) else trained_lib.fit_head(t.last, spec.train, spec.seed)
    out.append(dataclasses.replace(t, best=best, last=last))
  return out

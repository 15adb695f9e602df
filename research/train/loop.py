"""The host loop: `fit` trains or resumes a run in a workdir; `load_run` reads one back."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
import time
from typing import Any

import jax
import ml_collections
import numpy as np
import tqdm

from research import evaluation
from research.data import dataset as dataset_lib
from research.models import build_model
from research.tasks import build_task
from research.train import checkpoint
from research.train import engine
from research.train import optim
from research.train import records
from research.train import sampling

# Config groups that define what is trained; a workdir refuses a run that changes them.
IDENTITY_GROUPS = ("data", "model", "task")


class TrainingError(RuntimeError):
  """A run that cannot go on; the message says why and what to do."""


@dataclasses.dataclass
class Run:
  """A trained run read back from its workdir (best checkpoint)."""
  config: ml_collections.ConfigDict
  meta: dict[str, Any]
  model: Any
  task: Any
  variables: dict[str, Any]
  workdir: pathlib.Path


def _config_json(config) -> dict:
  return json.loads(config.to_json_best_effort())


def check_workdir(workdir: pathlib.Path, config) -> None:
  """Refuses a workdir whose run has another data, model or task config."""
  path = workdir / "config.json"
  if not path.exists():
    return
  old, new = records.read_json(path), _config_json(config)
  changed = [g for g in IDENTITY_GROUPS if old.get(g) != new.get(g)]
  if changed:
    diffs = []
    for group in changed:
      keys = sorted(set(old.get(group, {})) | set(new.get(group, {})))
      diffs += [f"{group}.{k}: {old.get(group, {}).get(k)!r} -> {new.get(group, {}).get(k)!r}"
                for k in keys if old.get(group, {}).get(k) != new.get(group, {}).get(k)]
    raise TrainingError(
        f"{workdir} holds a run with a different {', '.join(changed)} config "
        f"({'; '.join(diffs)}). Resuming only allows training fields to change: "
        f"choose a new --workdir, or restore the old settings.")


def _device_split(split):
  """Numeric arrays of a split placed on the device once."""
  return {k: jax.device_put(v) for k, v in split.items() if np.asarray(v).dtype.kind in "biuf"}


def _host(metrics) -> dict:
  return {k: (v.item() if np.ndim(v) == 0 else v.tolist()) for k, v in jax.device_get(metrics).items()}


class _Progress:
  """A tqdm bar over epochs on a terminal, one plain line per epoch elsewhere."""

  def __init__(self, start, total):
    self.bar = tqdm.tqdm(initial=start, total=total, unit="epoch") if sys.stdout.isatty() else None

  def update(self, row, monitor):
    shown = dict.fromkeys(["loss", "val_loss", monitor])
    summary = " ".join(f"{k} {row[k]:.4g}" for k in shown) + f" lr {row['lr']:.3g}"
    if self.bar is not None:
      self.bar.set_postfix_str(summary)
      self.bar.update(1)
    else:
      print(f"epoch {row['epoch']}: {summary} ({row['seconds']:.1f}s)", flush=True)

  def close(self):
    if self.bar is not None:
      self.bar.close()


def _components(config, meta):
  model = build_model(config.model, meta)
  task = build_task(config.task, meta)
  return model, task, optim.build_optimizer(config.optim)


def fit(config, dataset: dataset_lib.Dataset, workdir) -> dict:
  """Trains (or resumes) the run in `workdir`, then reports the best checkpoint.

  Returns the report dict that is also written to report.json.
  """
  workdir = pathlib.Path(workdir)
  check_workdir(workdir, config)
  workdir.mkdir(parents=True, exist_ok=True)
  records.write_json_atomic(workdir / "config.json", _config_json(config))
  meta = {**dataset.meta, "input_shape": list(dataset.train["x"].shape[1:]), "sizes": dataset.sizes()}
  records.write_json_atomic(workdir / "dataset.json", meta)

  model, task, optimizer = _components(config, meta)
  train_cfg = config.train
  state = engine.init_state(jax.random.PRNGKey(config.seed), model, optimizer,
                            dataset.train["x"], train_cfg.mode)
  mgr = checkpoint.manager(workdir / "checkpoints", train_cfg.monitor, train_cfg.mode)
  history: list[dict] = []
  if mgr.latest_step() is not None:
    state, saved = checkpoint.restore(mgr, mgr.latest_step(), state)
    history = saved["history"]
    print(f"Resuming {workdir} after epoch {int(state.epoch)}.", flush=True)

  train_data, val_data = _device_split(dataset.train), _device_split(dataset.val)
  epoch_fn = jax.jit(engine.make_epoch_fn(model, task, optimizer, train_cfg, sampler=sampling.from_config(config),
                                          augment=sampling.augment_from_config(config)), donate_argnums=0)
  with records.EventWriter(workdir / "tensorboard") as events:
    progress = _Progress(int(state.epoch), train_cfg.epochs)
    try:
      while int(state.epoch) < train_cfg.epochs and not bool(state.controllers.stopped):
        started = time.perf_counter()
        state, metrics = epoch_fn(state, train_data, val_data)
        row = _host(metrics)  # The one host sync of the epoch.
        if row["nonfinite_step"] >= 0:
          raise TrainingError(
              f"Non-finite loss at epoch {int(state.epoch) + 1}, step {row['nonfinite_step'] + 1}; "
              f"the run stopped and the last good checkpoint (epoch {int(state.epoch)}) is kept in "
              f"{workdir / 'checkpoints'}. Lower config.optim.lr or set config.optim.clip_norm.")
        row = {"epoch": int(state.epoch), **row, "seconds": time.perf_counter() - started}
        history.append(row)
        last = row["stopped"] or row["epoch"] >= train_cfg.epochs
        if last or row["epoch"] % train_cfg.checkpoint_every == 0:
          checkpoint.save(mgr, row["epoch"], state, {"history": history},
                          {train_cfg.monitor: row[train_cfg.monitor]})
        records.write_history(workdir / "history.jsonl", history)
        events.scalars(row["epoch"], row)
        progress.update(row, train_cfg.monitor)
    finally:
      progress.close()
      mgr.wait_until_finished()
  if not history:
    raise TrainingError(f"{workdir} has no trained epoch: config.train.epochs is {train_cfg.epochs}.")
  return report(workdir, config.eval.split, dataset=dataset)


def load_run(workdir, step: int | None = None, best: bool = True) -> Run:
  """Reads back the run in `workdir` with its best weights (`best=False`: its last ones).

  The best weights (by the monitored metric, tracked in the train state) come
  from the latest checkpoint, or from checkpoint `step` when given.
  """
  workdir = pathlib.Path(workdir)
  for name in ("config.json", "dataset.json"):
    if not (workdir / name).exists():
      raise TrainingError(f"{workdir / name} is missing: {workdir} is not a trained workdir "
                          f"(train one with launch/train.py --workdir {workdir}).")
  config = ml_collections.ConfigDict(records.read_json(workdir / "config.json"))
  meta = records.read_json(workdir / "dataset.json")
  model, task, optimizer = _components(config, meta)
  like = jax.eval_shape(lambda: engine.init_state(
      jax.random.PRNGKey(0), model, optimizer, np.zeros([1] + meta["input_shape"], np.float32),
      config.train.mode))
  mgr = checkpoint.manager(workdir / "checkpoints", config.train.monitor, config.train.mode)
  step = step if step is not None else mgr.latest_step()
  if step is None:
    raise TrainingError(f"{workdir / 'checkpoints'} holds no checkpoint; train the run first.")
  state, _ = checkpoint.restore(mgr, step, like)
  return Run(config=config, meta=meta, model=model, task=task, variables=state.variables(best=best),
             workdir=workdir)


def predict_arrays(run: Run, split: dict, batch_size: int | None = None) -> dict:
  """`task.predict` outputs of the run's model for every example of `split`, as numpy."""
  batch_size = batch_size or run.config.train.eval_batch_size
  data = _device_split({k: v for k, v in split.items() if k in ("x", "mask")})
  fn = jax.jit(lambda variables, data: engine.predict(run.model, run.task, variables, data, batch_size))
  return jax.device_get(fn(run.variables, data))


def report(workdir, split_name: str, dataset: dataset_lib.Dataset | None = None) -> dict:
  """Evaluates the best checkpoint on `split_name`; writes report.json, report.md, plots."""
  workdir = pathlib.Path(workdir)
  run = load_run(workdir)
  if dataset is None:
    from research.data import load_dataset  # Re-reads the data the run was trained on.
    dataset = load_dataset(run.config)
  split = dataset.split(split_name)
  history = records.read_history(workdir / "history.jsonl")
  best_epoch = records.best_row(history)
  predictions = predict_arrays(run, split)
  report_fn = evaluation.REPORTS[run.config.task.name]
  reference = evaluation.reference_predictions(run.config.data, split)
  plots_dir = workdir / "plots"
  from research.evaluation import plots  # matplotlib only when reporting.
  plots.plot_loss(history, plots_dir / "loss.png", log_scale=run.config.task.name == "regression")
  result, markdown = report_fn(
      split=split, predictions=predictions, meta=run.meta, history=history,
      val_metrics={k: v for k, v in best_epoch.items() if k.startswith("val_")},
      plots_dir=plots_dir, split_name=split_name, eval_config=run.config.get("eval"),
      **({"reference": reference} if reference else {}))
  result = {**result, "best_epoch": best_epoch["epoch"], "workdir": str(workdir)}
  records.write_json_atomic(workdir / "report.json", result)
  records.write_text_atomic(workdir / "report.md", markdown)
  return result

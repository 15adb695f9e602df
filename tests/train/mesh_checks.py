"""Trainings tests/train/test_mesh.py runs twice: on one device (its reference) and on forced host devices.

XLA_FLAGS must be set before JAX starts, so the many-device side runs here, in a subprocess:

  XLA_FLAGS=--xla_force_host_platform_device_count=4 python tests/train/mesh_checks.py runs OUT_DIR

writes OUT_DIR/runs.npz (every run's weights and history) and OUT_DIR/runs.json (the devices seen).
`distributed` is one of several processes (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from research import compile_cache  # noqa: E402
from research import config_file  # noqa: E402
from research import distributed  # noqa: E402
from research.data import dataset as dataset_lib  # noqa: E402
from research.data import load_dataset  # noqa: E402
from research.train import loop  # noqa: E402

LEARNING_RATES = (1e-3, 2e-2, 1e-4)
HISTORY_KEYS = ("loss", "val_loss", "grad_norm", "lr", "is_best", "stopped")


def lstm_config(axis: str, epochs: int, devices: int = 0):
  """A tiny regression LSTM; early stopping (patience 1) stops the runs of `fold_runs` at different epochs."""
  config = config_file.load(ROOT / "configs" / "lstm_filter.py:smoke")
  config.data.duration = 0.2
  config.model.hidden_sizes = (4, 4)
  config.train.epochs = epochs
  config.train.early_stopping.patience = 1
  config.train.early_stopping.min_delta = 0.015
  with config.unlocked():
    config.mesh = {"axis": axis, "devices": devices}
  return config


def fold_runs(config, count: int) -> tuple[dict, list]:
  """`count` runs, each with its own 100 training examples (stacked data, as CV folds have) and learning
  rate (1e-4 makes too little progress: early stopping ends that run first)."""
  dataset = load_dataset(config)
  meta = {**dataset.meta, "input_shape": list(dataset.train["x"].shape[1:])}
  rng = np.random.default_rng(7)
  n = len(dataset.train["y"])
  runs = [loop.RunSpec(seed=10 + r, train=dataset_lib.take(dataset.train, rng.permutation(n)[:100]),
                           val=dataset.val, lr=LEARNING_RATES[r % len(LEARNING_RATES)]) for r in range(count)]
  return meta, runs


def runs_axis(checkpoint_dir=None, epochs: int = 4, count: int = 3, devices: int = 0):
  """`count` runs side by side on the runs axis (3 on 4 devices: one padded run)."""
  config = lstm_config("runs", epochs, devices)
  meta, runs = fold_runs(config, count)
  return loop.train_many(config, meta, runs, checkpoint_dir=checkpoint_dir, log=None)


def data_axis(epochs: int = 3, devices: int = 0):
  """One MaxCRNN run (BatchNorm, dropout) with each batch of 8 split over the devices."""
  config = config_file.load(ROOT / "configs" / "maxcrnn.py:smoke")
  config.train.epochs = epochs
  config.train.early_stopping.enabled = False
  with config.unlocked():
    config.mesh = {"axis": "data", "devices": devices}
  dataset = load_dataset(config)
  meta = {**dataset.meta, "input_shape": list(dataset.train["x"].shape[1:])}
  spec = loop.RunSpec(seed=3, train=dataset.train, val=dataset.val)
  return loop.train_many(config, meta, [spec], log=None)


def resumed(folder: pathlib.Path):
  """The runs-axis study stopped after 2 epochs and continued to 4 from its checkpoint.

  A copy of the epoch-2 checkpoints is left in `folder/at_epoch_2` (the test resumes it on one device).
  """
  runs_axis(folder / "checkpoints", epochs=2)
  shutil.copytree(folder / "checkpoints", folder / "at_epoch_2")
  return runs_axis(folder / "checkpoints", epochs=4)


def flatten(results) -> dict[str, np.ndarray]:
  """Every run's weights (best and last) and history as named arrays."""
  out = {}
  for r, result in enumerate(results):
    for which, variables in (("best", result.variables), ("last", result.last_variables)):
      leaves = jax.tree_util.tree_leaves_with_path(variables)
      out.update({f"{r}/{which}/{jax.tree_util.keystr(path)}": np.asarray(v) for path, v in leaves})
    for key in HISTORY_KEYS:
      out[f"{r}/history/{key}"] = np.asarray([row[key] for row in result.history], np.float64)
    out[f"{r}/best_epoch"] = np.asarray(result.best_epoch)
    out[f"{r}/stopped_epoch"] = np.asarray(result.stopped_epoch)
  return out


def cv_config(devices: int = 0):
  config = lstm_config("runs", epochs=3, devices=devices)
  config.train.early_stopping.enabled = False
  return config


def cross_validation(workdir: pathlib.Path, devices: int = 0) -> dict:
  """3-fold CV of the tiny LSTM (3 runs: on 4 devices one is padded)."""
  from research.studies import cv
  config = cv_config(devices)
  return cv.run_cv(config, load_dataset(config), workdir, folds=3, log=None)


def _record_renames(log: list) -> None:
  """Every file this process moves into place (workdir writes, plots, Orbax's) is appended to `log`."""
  replace = os.replace

  def recording(source, target, *args, **kwargs):
    log.append(str(target))
    return replace(source, target, *args, **kwargs)

  os.replace = recording


def multi_process(out: pathlib.Path) -> None:
  """One process of a multi-process run: the CV on the runs axis, then a data-parallel run."""
  assert distributed.initialize(None)
  renamed: list[str] = []
  _record_renames(renamed)
  cross_validation(out / "cv")
  results = data_axis()
  index = jax.process_index()
  np.savez(out / f"data_{index}.npz", **flatten(results))
  (out / f"process_{index}.json").write_text(json.dumps({
      "devices": jax.device_count(), "local_devices": jax.local_device_count(),
      "processes": jax.process_count(), "renamed": renamed}))


CHECKS = {"runs": lambda out: runs_axis(), "data": lambda out: data_axis(), "resume": resumed}


def main(name: str, out: pathlib.Path) -> None:
  out.mkdir(parents=True, exist_ok=True)
  if name == "distributed":
    multi_process(out)
    return
  compile_cache.enable()  # the runs-axis and resume checks compile the same 4-device programs
  np.savez(out / f"{name}.npz", **flatten(CHECKS[name](out)))
  (out / f"{name}.json").write_text(json.dumps({"devices": jax.device_count()}))


if __name__ == "__main__":
  main(sys.argv[1], pathlib.Path(sys.argv[2]))

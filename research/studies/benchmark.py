"""Configs x datasets: each config's model trained on each `.ts` dataset, one results table.

A dataset is a UEA/UCR `*_TRAIN.ts` file (its `*_TEST.ts` beside it), a folder holding one, or
the name of a problem a pip package ships (aeon's bundled UCR/UEA sets, read from the installed
package: `bundled_datasets()`). A config's own data group is replaced by the `.ts` reader's
(research.data.defaults.ts_data) unless it already reads `.ts` files; series are z-scored
per channel from the training split there, as the README's own-data overrides do.

Every cell trains into <workdir>/<config>/<dataset> through the engine (`research.train.fit`),
so an interrupted benchmark resumes; a finished cell (cell.json) is not trained again. A cell
that fails (e.g. series shorter than a model's pooling) is reported with its error, not fatal.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
import time

from research import config_file
from research import workdir as workdir_lib
from research import workdir_lock
from research.data import defaults as data_defaults
from research.data.formats import ts as ts_format
from research.studies import common
from research.studies import published

CELL = "cell.json"


def bundled_datasets() -> dict[str, pathlib.Path]:
  """{name: *_TRAIN.ts} of the classification problems aeon ships inside its package ({} without aeon)."""
  spec = importlib.util.find_spec("aeon")
  if spec is None or not spec.submodule_search_locations:
    return {}
  root = pathlib.Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
  found = {}
  for train in sorted(root.glob("*/*_TRAIN.ts")):
    name = train.name[:-len("_TRAIN.ts")]
    if name == train.parent.name and (train.parent / f"{name}_TEST.ts").is_file():
      found[name] = train
  return found


def resolve_dataset(text: str) -> tuple[str, pathlib.Path]:
  """(name, *_TRAIN.ts path) of a dataset argument: a file, a folder or a bundled problem's name."""
  path = pathlib.Path(text)
  if path.exists():
    train, _ = ts_format.resolve_paths(path)
    return train.name[:-len("_TRAIN.ts")] if train.name.endswith("_TRAIN.ts") else train.stem, train
  bundled = bundled_datasets()
  if text in bundled:
    return text, bundled[text]
  where = (f"bundled with aeon: {', '.join(bundled)}" if bundled
           else "none bundled: `pip install aeon` ships a few")
  raise FileNotFoundError(f"--datasets: {text!r} is neither a .ts file or folder nor a known problem ({where})")


def config_for(config_path: str, train_file: pathlib.Path, overrides: dict[str, str]):
  """The config of `config_path` reading `train_file`, with `overrides` ({dotted key: text}) applied."""
  config = config_file.load(config_path)
  if config.data.get("name") == "ts":
    config.data.path = str(train_file)
    config.data.test_path = ""
  else:
    config.data = data_defaults.ts_data()
    config.data.path = str(train_file)
    config.data.normalize = "zscore"
  for key, text in overrides.items():
    common.set_field(config, key, common.parse_value(text, common.get_field(config, key)))
  return config


def parse_overrides(items: list[str]) -> dict[str, str]:
  """--set key=value items -> {key: value text}; a malformed one is a ConfigError."""
  from research.config_check import ConfigError
  overrides = {}
  for item in items:
    key, sep, value = item.partition("=")
    if not sep:
      raise ConfigError(f"--set {item!r}: expected key=value, e.g. train.epochs=100")
    overrides[key.strip()] = value.strip()
  return overrides


def label(config_path: str) -> str:
  """'configs/sign_lstm.py:small' -> 'sign_lstm:small'."""
  file, _, variant = config_path.partition(":")
  return pathlib.Path(file).stem + (f":{variant}" if variant else "")


@dataclasses.dataclass
class Cell:
  config: str
  dataset: str
  accuracy: float | None = None
  interval: list[float] | None = None  # [low, high]
  majority_rate: float | None = None
  chance_level: float | None = None
  better_than_majority: bool | None = None
  train_seconds: float | None = None
  num_train: int | None = None
  num_test: int | None = None
  published: float | None = None
  error: str | None = None


def run_cell(config_path: str, dataset: str, train_file: pathlib.Path, workdir: pathlib.Path,
             overrides: dict[str, str]) -> Cell:
  """Trains (or reads the finished) cell in `workdir`."""
  from research.data import load_dataset
  from research.errors import ResearchError
  from research.train import fit

  done = workdir / CELL
  reference = published.accuracy(label(config_path), dataset)
  if done.is_file():  # the published figure is read afresh: it is not a result of the run
    return dataclasses.replace(Cell(**workdir_lib.read_json(done)), published=reference)
  cell = Cell(config=label(config_path), dataset=dataset, published=reference)
  try:
    config = config_for(config_path, train_file, overrides)
    data = load_dataset(config)
    start = time.perf_counter()
    report = fit(config, data, workdir)
    seconds = time.perf_counter() - start
  except (ResearchError, ValueError, FileNotFoundError, KeyError) as error:
    cell.error = str(error).splitlines()[0]
    return cell  # Not marked done: a fixed cause is retried by the same command.
  cell = dataclasses.replace(
      cell, accuracy=report["accuracy"], interval=[float(v) for v in report["accuracy_interval_95"]],
      majority_rate=report["majority_rate"], chance_level=report["chance_level"],
      better_than_majority=report["better_than_majority"], train_seconds=seconds,
      num_train=len(data.train["y"]) + len(data.val["y"]), num_test=len(data.test["y"]))
  workdir_lib.write_json_atomic(done, dataclasses.asdict(cell))
  return cell


def markdown(cells: list[Cell]) -> str:
  """The results table, one row per cell, with the trivial baseline and published numbers."""
  lines = ["| dataset | config | train / test | test accuracy | 95% interval (Wilson) | majority class | "
           "better than majority? | published | train s |", "|---|---|---|---|---|---|---|---|---|"]
  for c in cells:
    pub = f"{c.published:.4f}" if c.published is not None else "-"
    if c.error:
      lines.append(f"| {c.dataset} | {c.config} | - | failed: {c.error} | - | - | - | {pub} | - |")
      continue
    verdict = "yes" if c.better_than_majority else "**no**"
    lines.append(f"| {c.dataset} | {c.config} | {c.num_train} / {c.num_test} | {c.accuracy:.4f} | "
                 f"[{c.interval[0]:.3f}, {c.interval[1]:.3f}] | {c.majority_rate:.3f} | {verdict} | {pub} | "
                 f"{c.train_seconds:.1f} |")
  sources = "; ".join(f"{name}: {text}" for name, text in published.SOURCES.items())
  return ("\n".join(lines) + "\n\nTrain seconds: wall time of training and reporting, compilation included, "
          "on this machine. Published: " + sources + ".\n")


def plot(path, cells: list[Cell]) -> str:
  """Grouped bars: accuracy with its interval per dataset and config, the majority rate as a tick."""
  from research.evaluation import plots
  return plots.literal_text(_plot)(path, cells)


def _plot(path, cells):
  from research.evaluation import plots  # sets the Agg backend before pyplot
  from matplotlib import pyplot as plt
  datasets = list(dict.fromkeys(c.dataset for c in cells))
  configs = list(dict.fromkeys(c.config for c in cells))
  width = 0.8 / len(configs)
  fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(datasets) * max(1, len(configs) / 2)), 3.6))
  for j, name in enumerate(configs):
    for i, dataset in enumerate(datasets):
      cell = next((c for c in cells if c.config == name and c.dataset == dataset and not c.error), None)
      if cell is None:
        continue
      x = i + (j - (len(configs) - 1) / 2) * width
      err = [[cell.accuracy - cell.interval[0]], [cell.interval[1] - cell.accuracy]]
      ax.bar(x, cell.accuracy, width, yerr=err, capsize=3, color=f"C{j}", label=name if i == 0 else None)
      ax.plot([x - width / 2, x + width / 2], [cell.majority_rate] * 2, color="k", lw=1.5)
  ax.set_xticks(range(len(datasets)))
  ax.set_xticklabels(datasets, rotation=20, ha="right")
  ax.set_ylim(0, 1.05)
  ax.set_ylabel("test accuracy (95% interval); black: majority class")
  if any(not c.error for c in cells):
    ax.legend(loc="lower right", fontsize=8)
  plots.save_figure(fig, pathlib.Path(path))
  return str(path)


@workdir_lock.locks_workdir
def run(config_paths: list[str], datasets: list[str], workdir, overrides: dict[str, str] | None = None,
        log=print) -> list[Cell]:
  """Every config on every dataset; writes benchmark.json, benchmark.md and plots/benchmark.png."""
  workdir = pathlib.Path(workdir)
  if not config_paths or not datasets:
    raise ValueError(f"a benchmark needs at least one config and one dataset; found configs {config_paths}, "
                     f"datasets {datasets} (give --configs and --datasets as comma-separated lists)")
  resolved = [resolve_dataset(text) for text in datasets]  # Every name and key checked before any training.
  for path in config_paths:
    config_for(path, resolved[0][1], overrides or {})
  cells = []
  for name, train_file in resolved:
    for path in config_paths:
      log(f"benchmark: {path} on {name}")
      cell = run_cell(path, name, train_file, workdir / label(path) / name, overrides or {})
      cells.append(cell)
      log(f"benchmark: {path} on {name}: " + (f"failed: {cell.error}" if cell.error else
                                                f"accuracy {cell.accuracy:.4f} in {cell.train_seconds:.1f} s"))
  workdir_lib.write_json_atomic(workdir / "benchmark.json", {
      "configs": config_paths, "datasets": datasets, "overrides": overrides or {},
      "cells": [dataclasses.asdict(c) for c in cells]})
  plot(workdir / "plots" / "benchmark.png", cells)
  workdir_lib.write_text_atomic(workdir / "benchmark.md", markdown(cells) + "\n![benchmark](plots/benchmark.png)\n")
  return cells

"""Shared pieces of the studies: checking configs, baselines, training many runs, scoring one split,
tests, plots, overrides.

Every study checks its configs once where it starts (`check`), before any data is
read or file written, then trains through `research.train.train_runs` (network
and/or head, any config; static augmentation happens there) with checkpoints under
its own workdir, so a study killed at any epoch resumes with the same command.
Scores follow the task: accuracy for models that predict class probabilities
(classifiers, and the workout model's exercise class), mean squared error for
regression.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import pathlib

import numpy as np
from scipy import stats as scipy_stats

from research import workdir as workdir_lib
from research.evaluation import classification as classification_report
from research.evaluation import stats
from research.train import check_config
from research.train import train_runs
from research.train import trained as trained_lib


def check(*configs) -> None:
  """Every config of a study (None skipped), checked once before any data is read or file written."""
  for config in configs:
    if config is not None:
      check_config(config)


def dataset_of(config, dataset=None):
  """`dataset`, or the config's data read once."""
  if dataset is not None:
    return dataset
  from research.data import load_dataset
  return load_dataset(config)


def baseline_for(config, baseline, log=print):
  """The baseline config as a study compares it with `config`: on exactly the config's data, CV
  settings and device layout; None when there is none, when it is `config` itself, or for a
  regression task (the forest baseline is a classifier)."""
  if baseline is None or baseline.to_json_best_effort() == config.to_json_best_effort():
    return None
  if config.task.name == "regression":
    if log:
      log("note: no baseline for a regression task (the forest is a classifier); the report compares "
          "with the zero prediction")
    return None
  baseline = copy.deepcopy(baseline)
  with baseline.unlocked():
    baseline.data = copy.deepcopy(config.data)
    for group in ("cv", "mesh"):
      if group in config:
        baseline[group] = copy.deepcopy(config[group])
  return baseline


def fit_predict(config, meta: dict, specs: list, evaluate: list[dict[str, dict]], *, checkpoint_dir=None,
                extra_eval=None, log=print):
  """Trains every spec (resuming from `checkpoint_dir`), then predicts its `evaluate` splits.

  Returns (trained runs, per spec {split name: outputs}).
  """
  trained = train_runs(config, meta, specs, checkpoint_dir=checkpoint_dir, extra_eval=extra_eval, log=log)
  outputs = [{name: t.best.predict(split) for name, split in splits.items()}
             for t, splits in zip(trained, evaluate)]
  return trained, outputs


def study_dir(workdir, name: str, config, dataset=None) -> pathlib.Path:
  """workdir/<name>: one trained configuration of a study; refuses one trained with another config
  (or, given `dataset`, other data)."""
  directory = workdir_lib.start(pathlib.Path(workdir) / name, config, groups=None)
  if dataset is not None:
    fingerprint = {"fingerprint": dataset.fingerprint()}
    workdir_lib.check_data(directory, fingerprint)
    workdir_lib.write_json_atomic(directory / "dataset.json", fingerprint)
  return directory


@dataclasses.dataclass
class Score:
  """One model's score on one split."""
  metric: str  # accuracy | mse
  value: float
  per_example: np.ndarray  # correct (bool) for accuracy, squared error for mse
  details: dict  # the report's numbers for this split (interval, chance test, F1...)

  @property
  def higher_is_better(self) -> bool:
    return self.metric == "accuracy"


def _per_example_squared_error(split, value) -> np.ndarray:
  """(N,) mean squared error per example over its valid time steps (the split's `mask`)."""
  error = (np.asarray(value, np.float64) - np.asarray(split["y"], np.float64)) ** 2
  n = len(error)
  if "mask" not in split:
    return error.reshape(n, -1).mean(1)
  mask = np.asarray(split["mask"], np.float64).reshape(n, -1)
  error = error.reshape(n, mask.shape[1], -1).mean(-1)
  return (error * mask).sum(1) / np.maximum(mask.sum(1), 1)


def score(split: dict, outputs: dict, class_names, split_name: str = "test", val_accuracy=None) -> Score:
  """Accuracy (with the classification report's numbers) or MSE (with the zero prediction's)."""
  if "probs" in outputs:
    details = classification_report.compute(split["y"], outputs["probs"], list(class_names), val_accuracy,
                                            split_name)
    correct = np.asarray(outputs["probs"]).argmax(1) == np.asarray(split["y"])
    return Score("accuracy", details["accuracy"], correct, details)
  errors = _per_example_squared_error(split, outputs["value"])
  zero = _per_example_squared_error(split, np.zeros_like(np.asarray(split["y"], np.float64)))
  details = {"mse": float(errors.mean()), "zero_prediction_mse": float(zero.mean()),
             "mse_interval_95": stats.bootstrap_interval(errors),
             "p_value_vs_zero": paired_p(errors, zero, higher_is_better=False),
             "num_examples": int(len(errors))}
  return Score("mse", float(errors.mean()), errors, details)


def paired_p(a, b, higher_is_better: bool) -> float:
  """One-sided p that `a` beats `b` example by example (Wilcoxon signed-rank on the differences)."""
  diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
  diff = diff if higher_is_better else -diff
  if not np.any(diff != 0):
    return 1.0
  return float(scipy_stats.wilcoxon(diff, alternative="greater").pvalue)


METRIC_RANGE = {"accuracy": (0.0, 1.0), "macro_f1": (0.0, 1.0), "mse": (0.0, math.inf)}


def mean_std(values, bounds=(-math.inf, math.inf)) -> dict:
  """Mean, sample std (ddof 1, 0 for one value) and a 95% t-interval of the mean, cut to `bounds`
  (a metric's possible range: with few folds the t-interval of an accuracy reaches past 1)."""
  values = np.asarray(values, np.float64)
  mean = float(values.mean())
  std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
  if len(values) > 1:
    half = float(scipy_stats.t.ppf(0.975, len(values) - 1) * std / math.sqrt(len(values)))
  else:
    half = float("nan")
  low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
  return {"mean": mean, "std": std, "n": int(len(values)), "interval_95": [low, high]}


def mcnemar_p(correct_a, correct_b) -> float:
  """Exact two-sided McNemar test of two classifiers on the same examples."""
  correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
  only_a = int((correct_a & ~correct_b).sum())
  only_b = int((~correct_a & correct_b).sum())
  if only_a + only_b == 0:
    return 1.0
  return float(scipy_stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def compare_p(per_example_a, per_example_b, metric: str) -> float:
  """Two-sided p that two models differ on the same examples: McNemar (accuracy), Wilcoxon (mse)."""
  if metric == "accuracy":
    return mcnemar_p(per_example_a, per_example_b)
  diff = np.asarray(per_example_a, np.float64) - np.asarray(per_example_b, np.float64)
  return 1.0 if not np.any(diff != 0) else float(scipy_stats.wilcoxon(diff).pvalue)


def pooled(labels, per_example: list[np.ndarray], probs: list[np.ndarray] | None, metric: str, class_names,
           zero_errors: np.ndarray | None = None) -> dict:
  """The pooled score over all held-out examples, with its interval and the trivial baseline."""
  values = np.concatenate(per_example)
  if metric == "accuracy":
    onehot = np.eye(len(class_names))[np.concatenate([p.argmax(1) for p in probs])]
    details = classification_report.compute(labels, onehot, list(class_names))
    return {"value": details["accuracy"], "interval_95": details["accuracy_interval_95"],
            "interval_method": "wilson", "baseline": details["chance_level"], "baseline_name": "chance",
            "p_value_vs_baseline": details["p_value_vs_chance"], "better_than_baseline": details["better_than_chance"]}
  p = paired_p(values, zero_errors, higher_is_better=False)
  return {"value": float(values.mean()), "interval_95": stats.bootstrap_interval(values),
          "interval_method": "bootstrap over examples", "baseline": float(np.mean(zero_errors)),
          "baseline_name": "zero prediction", "p_value_vs_baseline": p, "better_than_baseline": p < 0.05}


def bar_plot(path, labels, means, stds, baseline, title, ylabel="accuracy", baseline_name="chance"):
  """Bars of mean +- std with the trivial baseline as a dashed line; labels drawn as written."""
  from research.evaluation import plots
  return plots.literal_text(_bar_plot)(path, labels, means, stds, baseline, title, ylabel, baseline_name)


def _bar_plot(path, labels, means, stds, baseline, title, ylabel, baseline_name):
  from research.evaluation import plots  # sets the Agg backend before pyplot
  from matplotlib import pyplot as plt
  fig, ax = plt.subplots(figsize=(max(4, 1.3 * len(labels)), 3.2))
  ax.bar(range(len(labels)), means, yerr=stds, capsize=5, color="#4c72b0")
  ax.axhline(baseline, color="k", ls="--", lw=1, label=f"{baseline_name} {baseline:.3g}")
  ax.set_xticks(range(len(labels)))
  ax.set_xticklabels([str(label) for label in labels], rotation=20, ha="right")
  if ylabel == "accuracy":
    ax.set_ylim(0, 1)
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  ax.legend(loc="upper right")
  plots.save_figure(fig, pathlib.Path(path))
  return str(path)


def parse_value(text: str, current):
  """A command-line value in the type of the config field it replaces."""
  if isinstance(current, bool):
    if text.lower() in ("true", "1", "yes"):
      return True
    if text.lower() in ("false", "0", "no"):
      return False
    raise ValueError(f"expected true/false for a boolean field; found {text!r}")
  if isinstance(current, int):
    return int(text)
  if isinstance(current, float):
    return float(text)
  if isinstance(current, tuple):
    return tuple(type(current[0])(v) for v in text.split("/")) if current else tuple(text.split("/"))
  return text


def get_field(config, dotted: str):
  node = config
  for part in dotted.split("."):
    if part not in node:
      raise KeyError(f"config has no field {dotted!r} (stopped at {part!r}); "
                     f"valid here: {sorted(node.keys())}")
    node = node[part]
  return node


def set_field(config, dotted: str, value):
  *parents, last = dotted.split(".")
  node = config
  for part in parents:
    node = node[part]
  get_field(config, dotted)  # raises a helpful error for a misspelt key
  node[last] = value


def model_name(config) -> str:
  return trained_lib.name(config)

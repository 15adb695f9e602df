"""Shared pieces of the studies: model kinds, scoring one split, plots, config overrides."""

from __future__ import annotations

import math
import pathlib

import numpy as np
from scipy import stats as scipy_stats

from research.evaluation import classification as classification_report
from research.train import multirun

FOREST = "random_forest"


def is_forest(config) -> bool:
  return config.model.name == FOREST


def score(labels, probs, class_names, split_name: str = "test", val_accuracy=None) -> dict:
  """The classification report's numbers (accuracy, Wilson interval, chance test, F1...)."""
  return classification_report.compute(labels, probs, list(class_names), val_accuracy, split_name)


def mean_std(values) -> dict:
  """Mean, sample std (ddof 1, 0 for one value) and a 95% t-interval of the mean."""
  values = np.asarray(values, np.float64)
  mean = float(values.mean())
  std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
  if len(values) > 1:
    half = float(scipy_stats.t.ppf(0.975, len(values) - 1) * std / math.sqrt(len(values)))
  else:
    half = float("nan")
  return {"mean": mean, "std": std, "n": int(len(values)), "interval_95": [mean - half, mean + half]}


def mcnemar_p(correct_a, correct_b) -> float:
  """Exact two-sided McNemar test of two classifiers on the same examples."""
  correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
  only_a = int((correct_a & ~correct_b).sum())
  only_b = int((~correct_a & correct_b).sum())
  if only_a + only_b == 0:
    return 1.0
  return float(scipy_stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def forest_fit_predict(config, train: dict, evaluate: dict[str, dict], meta: dict, seed: int):
  """Features -> (grid-searched) forest on `train`; probabilities on each split of `evaluate`."""
  from research.heads import forest  # scikit-learn only here
  features = lambda split: forest.featurize(config.features, split["x"], meta["sampling_rate"])
  estimator, info = forest.fit_forest(config.forest, features(train), train["y"], seed)
  num_classes = len(meta["class_names"])
  probs = {name: forest.predict(estimator, features(split), num_classes)["probs"]
           for name, split in evaluate.items()}
  return probs, info


def neural_fit_predict(config, train: dict, val: dict, evaluate: dict[str, dict], meta: dict,
                       seeds: list[int], extra_eval=None, log=print):
  """Trains one run per seed (vmapped) on shared data; returns (results, probs per run).

  Static augmentation (config.augment.mode == "static") multiplies `train` first.
  """
  from research.data import augment  # jax-only; imported where used
  train = augment.static_train_split(config, train)
  runs = [multirun.RunSpec(seed=s, train=train, val=val) for s in seeds]
  results = multirun.train_many(config, meta, runs, extra_eval=extra_eval,
                                eval_every=int(config.get("transfer", {}).get("every", 0) or 0),
                                log=log)
  probs = [{name: np.asarray(multirun.predict(config, meta, r.variables, split)["probs"])
            for name, split in evaluate.items()} for r in results]
  return results, probs


def bar_plot(path, labels, means, stds, chance, title, ylabel="accuracy"):
  """Bars of mean +- std with the chance level as a dashed line."""
  import matplotlib
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt
  from research.evaluation import plots
  fig, ax = plt.subplots(figsize=(max(4, 1.3 * len(labels)), 3.2))
  ax.bar(range(len(labels)), means, yerr=stds, capsize=5, color="#4c72b0")
  ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance {chance:.2f}")
  ax.set_xticks(range(len(labels)))
  ax.set_xticklabels(labels, rotation=20, ha="right")
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

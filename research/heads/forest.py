"""Random Forest head (scikit-learn), with the sEMG seed's grid search.

Defaults follow the seed: 100 trees, sqrt(n_features) per split, bootstrap,
random_state from the config's seed; GridSearchCV over n_estimators 50/100/200,
max_depth None/10/20, min_samples_split 2/5/10, 5-fold, accuracy. In configs a
max_depth of 0 stands for None (no limit), since ConfigDict fields keep one type.
Trees ignore feature scale, so no scaler. TFLite has no tree op: the forest is
exported to C (research.export.c.forest), not to a .tflite.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from sklearn import ensemble, model_selection

NOT_TFLITE = ("TFLite has no tree-ensemble builtin op, so the Random Forest has no .tflite form; "
              "export writes it as C (model.h, features.h, main.c) for a microcontroller instead.")


def _depth(value):
  return None if value in (None, 0) else int(value)


def _int_or_none(value):
  return None if value is None else int(value)


class TreeEnsemble:
  """What the scikit-learn tree-ensemble heads share: probabilities over every class, the stored
  fitted model (research.heads.persist), no JAX form. Subclasses set `model` and `num_classes`."""

  def predict_proba(self, features_ND) -> np.ndarray:
    """(N, num_classes) probabilities; a class absent from training gets 0."""
    probabilities = self.model.predict_proba(np.asarray(features_ND, np.float32))
    full = np.zeros((len(features_ND), self.num_classes), np.float64)
    full[:, self.model.classes_] = probabilities
    return full

  def objects(self) -> dict[str, Any]:
    return {"model": self.model}

  @classmethod
  def from_objects(cls, settings: dict, objects: dict):
    head = cls(**{k: v for k, v in settings.items() if k != "kind"})
    head.model = objects["model"]
    return head

  def jax_fn(self):
    return None


@dataclasses.dataclass
class ForestHead(TreeEnsemble):
  """fit(features (N, D), labels (N,)) then predict_proba -> (N, num_classes)."""
  num_classes: int
  n_estimators: int = 100
  max_features: str = "sqrt"
  bootstrap: bool = True
  max_depth: int = 0  # 0 = no limit
  min_samples_split: int = 2
  n_jobs: int = 1  # the machine is shared; -1 uses every core
  grid_search: bool = False
  grid_folds: int = 5
  scoring: str = "accuracy"
  grid: dict = dataclasses.field(default_factory=lambda: {
      "n_estimators": (50, 100, 200), "max_depth": (0, 10, 20), "min_samples_split": (2, 5, 10)})
  seed: int = 0
  model: ensemble.RandomForestClassifier | None = dataclasses.field(default=None, repr=False)

  kind = "random_forest"
  fit_info: dict = dataclasses.field(default_factory=dict, repr=False)

  def _forest(self) -> ensemble.RandomForestClassifier:
    return ensemble.RandomForestClassifier(
        n_estimators=int(self.n_estimators), max_features=self.max_features, bootstrap=bool(self.bootstrap),
        max_depth=_depth(self.max_depth), min_samples_split=int(self.min_samples_split),
        random_state=int(self.seed), n_jobs=int(self.n_jobs))

  def _param_grid(self) -> dict[str, list]:
    return {"n_estimators": [int(v) for v in self.grid["n_estimators"]],
            "max_depth": [_depth(v) for v in self.grid["max_depth"]],
            "min_samples_split": [int(v) for v in self.grid["min_samples_split"]]}

  def fit(self, features_ND, labels_N) -> "ForestHead":
    """Fits the forest, grid-searched when `grid_search` (cells and best in `fit_info`).

    The grid's folds are StratifiedKFold(grid_folds) without shuffling, as
    GridSearchCV(cv=5) does; fewer when a class is smaller.
    """
    labels_N = np.asarray(labels_N, np.int64)
    forest = self._forest()
    if not self.grid_search:
      self.model = forest.fit(features_ND, labels_N)
      self.fit_info = {"grid_search": False}
      return self
    counts = np.bincount(labels_N)
    smallest = int(counts[counts > 0].min())
    folds = min(int(self.grid_folds), smallest)
    if folds < 2:
      raise ValueError(f"config.head.forest.grid_search needs >= 2 examples of every class; the smallest "
                       f"class has {smallest}. Disable the grid search or add data.")
    search = model_selection.GridSearchCV(
        forest, self._param_grid(), cv=model_selection.StratifiedKFold(folds), scoring=self.scoring,
        n_jobs=int(self.n_jobs), refit=True)
    search.fit(features_ND, labels_N)
    results = search.cv_results_
    cells = [{"params": {k: _int_or_none(v) for k, v in p.items()}, "mean": float(m), "std": float(s)}
             for p, m, s in zip(results["params"], results["mean_test_score"], results["std_test_score"])]
    self.model = search.best_estimator_
    self.fit_info = {"grid_search": True, "folds": folds, "scoring": self.scoring,
                     "best_params": {k: _int_or_none(v) for k, v in search.best_params_.items()},
                     "best_cv_score": float(search.best_score_), "cells": cells}
    return self

  def settings(self) -> dict[str, Any]:
    return {"kind": self.kind, "num_classes": self.num_classes, "n_estimators": self.n_estimators,
            "max_features": self.max_features, "bootstrap": self.bootstrap, "max_depth": self.max_depth,
            "min_samples_split": self.min_samples_split, "n_jobs": self.n_jobs,
            "grid_search": self.grid_search, "grid_folds": self.grid_folds, "scoring": self.scoring,
            "grid": {k: list(v) for k, v in self.grid.items()}, "seed": self.seed}

  expected_objects = {"model": ensemble.RandomForestClassifier}

  not_exportable = NOT_TFLITE

"""Random Forest on hand-made window features (scikit-learn), with the seed's grid search.

Defaults follow the seed: 100 trees, sqrt(n_features) per split, bootstrap,
random_state 1738; GridSearchCV over n_estimators 50/100/200, max_depth
None/10/20, min_samples_split 2/5/10, 5-fold, accuracy. In configs a max_depth
of 0 stands for None (no limit), since ConfigDict fields keep one type.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import ensemble, model_selection

from research.heads import features as features_lib


def _depth(value):
  return None if value in (None, 0) else int(value)


def build_forest(cfg, seed: int) -> ensemble.RandomForestClassifier:
  """A RandomForestClassifier from `config.forest`."""
  return ensemble.RandomForestClassifier(
      n_estimators=int(cfg.n_estimators), max_features=cfg.max_features, bootstrap=bool(cfg.bootstrap),
      max_depth=_depth(cfg.max_depth), min_samples_split=int(cfg.min_samples_split),
      random_state=seed, n_jobs=int(cfg.n_jobs))


def param_grid(cfg) -> dict[str, list]:
  grid = cfg.grid
  return {"n_estimators": [int(v) for v in grid.n_estimators],
          "max_depth": [_depth(v) for v in grid.max_depth],
          "min_samples_split": [int(v) for v in grid.min_samples_split]}


def featurize(feature_cfg, x, sampling_rate: float):
  return features_lib.extract(x, tuple(feature_cfg.names), threshold=feature_cfg.threshold,
                              sampling_rate=sampling_rate)


def fit_forest(cfg, features, y, seed: int) -> tuple[Any, dict]:
  """Fits the forest (grid-searched when `cfg.grid_search`); returns (estimator, info).

  `info` holds best_params, best_cv_score and every grid cell's mean/std CV
  accuracy (JSON-able). The grid's folds are StratifiedKFold(cfg.grid_folds)
  without shuffling, as GridSearchCV(cv=5) does; fewer when a class is smaller.
  """
  forest = build_forest(cfg, seed)
  if not cfg.grid_search:
    forest.fit(features, y)
    return forest, {"grid_search": False, "params": forest.get_params()}
  smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
  folds = min(int(cfg.grid_folds), smallest)
  if folds < 2:
    raise ValueError(f"config.forest.grid_search needs >= 2 examples of every class; the "
                     f"smallest class has {smallest}. Disable the grid search or add data.")
  search = model_selection.GridSearchCV(
      forest, param_grid(cfg), cv=model_selection.StratifiedKFold(folds), scoring=cfg.scoring,
      n_jobs=int(cfg.n_jobs), refit=True)
  search.fit(features, y)
  results = search.cv_results_
  cells = [{"params": {k: (None if v is None else int(v)) for k, v in p.items()},
            "mean": float(m), "std": float(s)}
           for p, m, s in zip(results["params"], results["mean_test_score"], results["std_test_score"])]
  info = {"grid_search": True, "folds": folds, "scoring": cfg.scoring,
          "best_params": {k: (None if v is None else int(v)) for k, v in search.best_params_.items()},
          "best_cv_score": float(search.best_score_), "cells": cells}
  return search.best_estimator_, info


def predict(estimator, features, num_classes: int | None = None) -> dict[str, np.ndarray]:
  """Same keys as the classification task's predictions: label and probabilities."""
  probabilities = estimator.predict_proba(features).astype(np.float32)
  width = num_classes or int(max(estimator.classes_)) + 1
  full = np.zeros((len(features), width), np.float32)
  full[:, estimator.classes_] = probabilities
  return {"label": full.argmax(1).astype(np.int32), "probs": full}

"""Extremely randomised trees head (scikit-learn `ExtraTreesClassifier`), QUANT's classifier.

Defaults are the QUANT authors' (and aeon's `QUANTClassifier`): 200 trees, entropy criterion,
10% of the features considered at each split, no bootstrap, trees grown to purity,
random_state from the config's seed. Trees ignore feature scale, so no scaler. Stored like the
random forest: the fitted trees as arrays + JSON through research.heads.persist (no pickle).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from sklearn import ensemble

from research.heads import forest

NOT_EXPORTABLE = ("TFLite has no tree-ensemble builtin op: an extra-trees head is exported as C, and only on "
                  "QUANT features or hand-made sEMG features (research/export/c).")


@dataclasses.dataclass
class ExtraTreesHead(forest.TreeEnsemble):
  """fit(features (N, D), labels (N,)) then predict_proba -> (N, num_classes)."""
  num_classes: int
  n_estimators: int = 200
  criterion: str = "entropy"
  max_features: float = 0.1  # a fraction of the features per split (an int would be a count)
  n_jobs: int = 1  # the machine is shared; -1 uses every core
  seed: int = 0
  model: ensemble.ExtraTreesClassifier | None = dataclasses.field(default=None, repr=False)

  kind = "extra_trees"
  expected_objects = {"model": ensemble.ExtraTreesClassifier}
  not_exportable = NOT_EXPORTABLE
  fit_info: dict = dataclasses.field(default_factory=dict, repr=False)

  def fit(self, features_ND, labels_N) -> "ExtraTreesHead":
    self.model = ensemble.ExtraTreesClassifier(
        n_estimators=int(self.n_estimators), criterion=self.criterion, max_features=self.max_features,
        random_state=int(self.seed), n_jobs=int(self.n_jobs))
    self.model.fit(np.asarray(features_ND, np.float32), np.asarray(labels_N, np.int64))
    self.fit_info = {"num_features": int(np.shape(features_ND)[1]),
                     "mean_leaves": float(np.mean([t.get_n_leaves() for t in self.model.estimators_]))}
    return self

  def settings(self) -> dict[str, Any]:
    return {"kind": self.kind, "num_classes": self.num_classes, "n_estimators": self.n_estimators,
            "criterion": self.criterion, "max_features": self.max_features, "n_jobs": self.n_jobs,
            "seed": self.seed}

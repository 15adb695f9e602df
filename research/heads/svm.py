"""StandardScaler + SVM (RBF) head with Platt probabilities (the CNN-SVM's head).

SVM probabilities: Platt scaling. scikit-learn 1.9 deprecates `SVC(probability=True)`
(removal in 1.11) in favour of `CalibratedClassifierCV(SVC(), ensemble=False)`; that
is what `fit` uses: one sigmoid per class fitted on cross-validated decision values
(stratified folds), an SVC refitted on all the data, per-class probabilities
normalised to sum to one. The head keeps only the scaler, the SVC and the sigmoids'
(a, b), so it is stored as plain arrays and predicts identically after loading; the
same arrays make its JAX form (`jax_fn`) for export.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn import calibration, model_selection, preprocessing, svm

from research.heads import svm_jax


@dataclasses.dataclass
class SVMHead:
  """fit(features (N, D), labels (N,)) then predict_proba -> (N, num_classes).

  Columns follow the class ids 0..num_classes-1; a class absent from training gets 0.
  """
  num_classes: int
  C: float = 10.0  # SVM regularisation (the seed's)
  gamma: str | float = "scale"  # RBF width; scikit-learn's default 1 / (D var(X))
  calibration_folds: int = 5  # folds for Platt scaling (fewer if a class is that small)
  seed: int = 0
  scaler: preprocessing.StandardScaler | None = dataclasses.field(default=None, repr=False)
  model: svm.SVC | None = dataclasses.field(default=None, repr=False)
  platt: np.ndarray | None = dataclasses.field(default=None, repr=False)  # (K, 2): a, b

  kind = "svm"
  fit_info: dict = dataclasses.field(default_factory=dict, repr=False)

  def fit(self, features_ND, labels_N) -> "SVMHead":
    features_ND = np.asarray(features_ND, np.float64)
    labels_N = np.asarray(labels_N, np.int64)
    self.scaler = preprocessing.StandardScaler().fit(features_ND)
    z_ND = self.scaler.transform(features_ND)
    smallest = int(np.bincount(labels_N)[np.unique(labels_N)].min())
    folds = min(self.calibration_folds, smallest)
    if folds < 2 or len(np.unique(labels_N)) < 2:
      raise ValueError(f"svm head: Platt scaling needs two classes with at least 2 examples each; the "
                       f"smallest class has {smallest}. Add data or use config.head.kind='random_forest'.")
    calibrated = calibration.CalibratedClassifierCV(
        svm.SVC(C=self.C, kernel="rbf", gamma=self.gamma), method="sigmoid", ensemble=False,
        cv=model_selection.StratifiedKFold(folds, shuffle=True, random_state=self.seed))
    calibrated.fit(z_ND, labels_N)
    fitted = calibrated.calibrated_classifiers_[0]
    self.model = fitted.estimator
    self.platt = np.array([[c.a_, c.b_] for c in fitted.calibrators], np.float64)
    self.fit_info = {"support_vectors": int(len(self.model.support_vectors_)), "calibration_folds": folds}
    return self

  def predict_proba(self, features_ND) -> np.ndarray:
    """Class probabilities (N, num_classes), rows summing to one."""
    z_ND = self.scaler.transform(np.asarray(features_ND, np.float64))
    classes = np.asarray(self.model.classes_, np.int64)
    decision = self.model.decision_function(z_ND)
    a, b = self.platt[:, 0], self.platt[:, 1]
    if decision.ndim == 1:  # Two classes: one sigmoid for the second.
      positive = expit(-(a[0] * decision + b[0]))
      proba_NK = np.stack([1.0 - positive, positive], axis=1)
    else:
      proba_NK = expit(-(a * decision + b))
      total = proba_NK.sum(axis=1, keepdims=True)
      proba_NK = np.divide(proba_NK, total, out=np.full_like(proba_NK, 1 / len(classes)), where=total != 0)
    proba_NC = np.zeros((len(z_ND), self.num_classes))
    proba_NC[:, classes] = proba_NK
    return proba_NC

  def settings(self) -> dict[str, Any]:
    return {"kind": self.kind, "num_classes": self.num_classes, "C": self.C, "gamma": self.gamma,
            "calibration_folds": self.calibration_folds, "seed": self.seed}

  def objects(self) -> dict[str, Any]:
    return {"scaler": self.scaler, "model": self.model, "platt": self.platt}

  @classmethod
  def from_objects(cls, settings: dict, objects: dict) -> "SVMHead":
    head = cls(**{k: v for k, v in settings.items() if k != "kind"})
    head.scaler, head.model, head.platt = objects["scaler"], objects["model"], objects["platt"]
    return head

  expected_objects = {"scaler": preprocessing.StandardScaler, "model": svm.SVC, "platt": np.ndarray}

  def jax_fn(self):
    """features (B, D) -> {'probs', 'votes', 'decision'} in JAX, the fitted arrays closed over."""
    params = svm_jax.svc_params(self.model, self.scaler)
    platt, num_classes = self.platt, self.num_classes

    def fn(features_BD):
      return {"probs": svm_jax.platt_probabilities(params, platt, features_BD, num_classes),
              "votes": svm_jax.class_votes(params, features_BD, num_classes),
              "decision": svm_jax.decision_ovo(params, features_BD)}

    return fn

  def export_notes(self) -> list[str]:
    return [f"SVC with {len(self.model.support_vectors_)} support vectors, gamma "
            f"{float(self.model._gamma):.4g}, Platt probabilities, in the graph."]

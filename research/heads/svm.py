"""Classifier heads on fixed features: StandardScaler + SVM (RBF) or Random Forest.

SVM probabilities: Platt scaling. scikit-learn 1.9 deprecates `SVC(probability=True)`
(removal in 1.11) in favour of `CalibratedClassifierCV(SVC(), ensemble=False)`; that
is what `fit` uses: one sigmoid per class fitted on cross-validated decision values
(stratified folds), an SVC refitted on all the data, per-class probabilities
normalised to sum to one. The head keeps only the SVC and the sigmoids' (a, b), so it
can be stored as plain arrays (`research.heads.persist`) and predicts identically after
loading.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit
from sklearn import calibration, ensemble, model_selection, preprocessing, svm

from research.heads import persist

KINDS = ("svm", "random_forest")


@dataclasses.dataclass
class FeatureHead:
  """fit(features (N, D), labels (N,)) then predict_proba -> (N, num_classes).

  Columns follow the class ids 0..num_classes-1; a class absent from training gets 0.
  """
  kind: str = "svm"
  num_classes: int = 6
  C: float = 10.0  # SVM regularisation (the seed's)
  gamma: str | float = "scale"  # RBF width; scikit-learn's default 1 / (D var(X))
  calibration_folds: int = 5  # folds for Platt scaling (fewer if a class is that small)
  n_estimators: int = 200  # random forest trees
  seed: int = 0
  scaler: preprocessing.StandardScaler | None = dataclasses.field(default=None, repr=False)
  model: object = dataclasses.field(default=None, repr=False)
  platt: np.ndarray | None = dataclasses.field(default=None, repr=False)  # (K, 2): a, b

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ValueError(f"Unknown head kind {self.kind!r} (config.head.kind); valid: {KINDS}")

  def fit(self, features_ND, labels_N) -> "FeatureHead":
    features_ND = np.asarray(features_ND, np.float64)
    labels_N = np.asarray(labels_N, np.int64)
    if labels_N.min() < 0 or labels_N.max() >= self.num_classes:
      raise ValueError(f"FeatureHead: labels must lie in [0, {self.num_classes}); found "
                       f"{labels_N.min()}..{labels_N.max()}")
    self.scaler = preprocessing.StandardScaler().fit(features_ND)
    z_ND = self.scaler.transform(features_ND)
    if self.kind == "random_forest":
      self.model = ensemble.RandomForestClassifier(
          n_estimators=self.n_estimators, random_state=self.seed).fit(z_ND, labels_N)
      self.platt = None
      return self
    smallest = int(np.bincount(labels_N)[np.unique(labels_N)].min())
    folds = min(self.calibration_folds, smallest)
    if folds < 2 or len(np.unique(labels_N)) < 2:
      raise ValueError(f"FeatureHead(svm): Platt scaling needs two classes with at least 2 examples "
                       f"each; the smallest class has {smallest}. Add files or use kind='random_forest'.")
    calibrated = calibration.CalibratedClassifierCV(
        svm.SVC(C=self.C, kernel="rbf", gamma=self.gamma), method="sigmoid", ensemble=False,
        cv=model_selection.StratifiedKFold(folds, shuffle=True, random_state=self.seed))
    calibrated.fit(z_ND, labels_N)
    fitted = calibrated.calibrated_classifiers_[0]
    self.model = fitted.estimator
    self.platt = np.array([[c.a_, c.b_] for c in fitted.calibrators], np.float64)
    return self

  def _check_fitted(self):
    if self.scaler is None or self.model is None:
      raise ValueError("FeatureHead: call fit (or load_head) before predicting")

  def predict_proba(self, features_ND) -> np.ndarray:
    """Class probabilities (N, num_classes), rows summing to one."""
    self._check_fitted()
    z_ND = self.scaler.transform(np.asarray(features_ND, np.float64))
    classes = np.asarray(self.model.classes_, np.int64)
    if self.kind == "random_forest":
      proba_NK = self.model.predict_proba(z_ND)
    else:
      decision = self.model.decision_function(z_ND)
      a, b = self.platt[:, 0], self.platt[:, 1]
      if decision.ndim == 1:  # Two classes: one sigmoid for the second.
        positive = expit(-(a[0] * decision + b[0]))
        proba_NK = np.stack([1.0 - positive, positive], axis=1)
      else:
        proba_NK = expit(-(a * decision + b))
        total = proba_NK.sum(axis=1, keepdims=True)
        proba_NK = np.divide(proba_NK, total, out=np.full_like(proba_NK, 1 / len(classes)),
                             where=total != 0)
    proba_NC = np.zeros((len(z_ND), self.num_classes))
    proba_NC[:, classes] = proba_NK
    return proba_NC

  def predict(self, features_ND) -> np.ndarray:
    return np.argmax(self.predict_proba(features_ND), axis=1)

  def settings(self) -> dict:
    return {"kind": self.kind, "num_classes": self.num_classes, "C": self.C, "gamma": self.gamma,
            "calibration_folds": self.calibration_folds, "n_estimators": self.n_estimators,
            "seed": self.seed}

  def save(self, directory, name: str = "head") -> dict:
    """Writes `<name>.npz` + `<name>.json` (no pickle); returns {file: sha256}."""
    self._check_fitted()
    objects = {"scaler": self.scaler, "model": self.model}
    if self.platt is not None:
      objects["platt"] = self.platt
    return persist.save(directory, name, objects, info=self.settings())


def load_head(directory, name: str = "head") -> FeatureHead:
  """The head saved by `FeatureHead.save`; refuses edited files (persist.TamperedFileError)."""
  objects, info = persist.load(directory, name)
  head = FeatureHead(**info)
  expected = (svm.SVC if head.kind == "svm" else ensemble.RandomForestClassifier)
  if not isinstance(objects.get("model"), expected) or not isinstance(
      objects.get("scaler"), preprocessing.StandardScaler):
    raise persist.TamperedFileError(f"{directory}/{name}.json: a {head.kind} head must hold a "
                                    f"StandardScaler and a {expected.__name__}")
  head.scaler, head.model, head.platt = objects["scaler"], objects["model"], objects.get("platt")
  return head

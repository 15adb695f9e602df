"""A fitted scikit-learn SVC (RBF kernel, one-vs-one) and scaler as a JAX function.

The decision is rebuilt from the fitted attributes, so it exports to TFLite with the
encoder in one graph. For classes i < j (pair p in scikit-learn's order
(0,1), (0,2), ..., (1,2), ...):

  d_p(x) = sum_{s in SV_i} a[j-1, s] K(x, s) + sum_{s in SV_j} a[i, s] K(x, s) + b_p
  K(x, s) = exp(-gamma ||x - s||^2)

with a = dual_coef_, b = intercept_; d_p > 0 votes for i, otherwise j (libsvm);
the prediction is the class with most votes, ties to the lower index.
For two classes scikit-learn stores dual_coef_ and intercept_ negated, so there
d(x) > 0 means classes_[1].
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def svc_params(svc, scaler=None) -> dict[str, Any]:
  """The numpy arrays the JAX decision needs, from a fitted SVC (and StandardScaler)."""
  kernel = getattr(svc, "kernel", None)
  if kernel != "rbf":
    raise ValueError(f"svm_jax supports kernel='rbf' only; the fitted SVC has kernel={kernel!r}")
  if not hasattr(svc, "support_vectors_"):
    raise ValueError("The SVC is not fitted (no support_vectors_); fit it before exporting.")
  gamma = float(getattr(svc, "_gamma", svc.gamma))
  params = {
      "support_vectors": np.asarray(svc.support_vectors_, np.float32),
      "dual_coef": np.asarray(svc.dual_coef_, np.float32),
      "intercept": np.asarray(svc.intercept_, np.float32),
      "n_support": np.asarray(svc.n_support_, np.int64),
      "gamma": np.float32(gamma),
      "classes": np.asarray(svc.classes_),
  }
  if scaler is not None:
    mean = getattr(scaler, "mean_", None)
    scale = getattr(scaler, "scale_", None)
    n = params["support_vectors"].shape[1]
    params["mean"] = np.zeros(n, np.float32) if mean is None else np.asarray(mean, np.float32)
    params["scale"] = np.ones(n, np.float32) if scale is None else np.asarray(scale, np.float32)
  return params


def _pair_coefficients(params) -> tuple[np.ndarray, list[tuple[int, int]]]:
  """(P, S) coefficients so that d = K(x, SV) @ coef.T + intercept, and the (i, j) of each pair."""
  n_support = params["n_support"]
  dual = params["dual_coef"]
  k = len(n_support)
  starts = np.concatenate([[0], np.cumsum(n_support)])
  pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
  coef = np.zeros((len(pairs), dual.shape[1]), np.float32)
  for p, (i, j) in enumerate(pairs):
    coef[p, starts[i]:starts[i + 1]] = dual[j - 1, starts[i]:starts[i + 1]]
    coef[p, starts[j]:starts[j + 1]] = dual[i, starts[j]:starts[j + 1]]
  return coef, pairs


def decision_ovo(params, features_BD):
  """(B, P) one-vs-one decision values, as scikit-learn's decision_function_shape='ovo'."""
  x = features_BD.astype(jnp.float32)
  if "mean" in params:
    x = (x - params["mean"]) / params["scale"]
  sv = jnp.asarray(params["support_vectors"])
  sq_dist = (jnp.sum(x * x, -1, keepdims=True) + jnp.sum(sv * sv, -1)[None, :] - 2.0 * x @ sv.T)
  kernel_BS = jnp.exp(-params["gamma"] * jnp.maximum(sq_dist, 0.0))
  if len(params["n_support"]) == 2:
    return kernel_BS @ params["dual_coef"][0][:, None] + params["intercept"]
  coef, _ = _pair_coefficients(params)
  return kernel_BS @ jnp.asarray(coef).T + params["intercept"]


def votes(params, features_BD):
  """(B, K) one-vs-one votes per class (two classes: one vote, to the winner)."""
  decision = decision_ovo(params, features_BD)
  k = len(params["n_support"])
  if k == 2:
    second = (decision[:, 0] > 0).astype(jnp.float32)
    return jnp.stack([1.0 - second, second], axis=-1)
  _, pairs = _pair_coefficients(params)
  first = np.zeros((len(pairs), k), np.float32)
  second = np.zeros((len(pairs), k), np.float32)
  for p, (i, j) in enumerate(pairs):
    first[p, i] = 1.0
    second[p, j] = 1.0
  wins = (decision > 0).astype(jnp.float32)
  return wins @ first + (1.0 - wins) @ second


def predict_index(params, features_BD):
  """(B,) index into `classes` of the predicted class (scikit-learn's SVC.predict order)."""
  return jnp.argmax(votes(params, features_BD), axis=-1).astype(jnp.int32)


def _place(classes, num_classes: int) -> np.ndarray:
  """(len(classes), num_classes) 0/1 matrix moving the SVC's class columns to class-id columns."""
  place = np.zeros((len(classes), num_classes), np.float32)
  place[np.arange(len(classes)), classes] = 1.0
  return place


def class_votes(params, features_BD, num_classes: int | None = None):
  """(B, num_classes) votes indexed by class id, when `classes` are integer ids.

  A class the SVM never saw gets no votes, so the argmax is still the SVC's
  prediction, as an id into the dataset's class_names.
  """
  classes = np.asarray(params["classes"])
  if not np.issubdtype(classes.dtype, np.integer):
    raise ValueError(f"class_votes needs integer class ids; the SVC was fitted on {classes.dtype} labels "
                     f"{classes[:3].tolist()}...: fit it on ids (index into class_names) to export it.")
  num_classes = int(classes.max()) + 1 if num_classes is None else num_classes
  if classes.min() < 0 or classes.max() >= num_classes:
    raise ValueError(f"SVC classes {classes.tolist()} fall outside 0..{num_classes - 1} (class_names).")
  return votes(params, features_BD) @ _place(classes, num_classes)


def ovr_decision(params, features_BD):
  """(B, K) scikit-learn's decision_function_shape='ovr' for K > 2 classes: votes plus
  summed pair confidences s squashed as s / (3 (|s| + 1)); (B, 1) for two classes."""
  decision = decision_ovo(params, features_BD)
  k = len(params["n_support"])
  if k == 2:
    return decision
  _, pairs = _pair_coefficients(params)
  sign = np.zeros((len(pairs), k), np.float32)  # +1 for the first class of a pair, -1 the second
  for p, (i, j) in enumerate(pairs):
    sign[p, i], sign[p, j] = 1.0, -1.0
  confidence = decision @ sign
  return votes(params, features_BD) + confidence / (3.0 * (jnp.abs(confidence) + 1.0))


def platt_probabilities(params, platt_K2, features_BD, num_classes: int | None = None):
  """Per-class Platt probabilities, as research.heads.svm.FeatureHead.predict_proba.

  p_k = sigmoid(-(a_k f_k + b_k)) on the ovr decision f, normalised to sum to one;
  two classes: one sigmoid for classes[1]. Columns are class ids 0..num_classes-1.
  """
  classes = np.asarray(params["classes"])
  platt = np.asarray(platt_K2, np.float32)
  num_classes = int(classes.max()) + 1 if num_classes is None else num_classes
  f = ovr_decision(params, features_BD)
  if len(classes) == 2:
    positive = jax.nn.sigmoid(-(platt[0, 0] * f[:, 0] + platt[0, 1]))
    proba_BK = jnp.stack([1.0 - positive, positive], axis=-1)
  else:
    proba_BK = jax.nn.sigmoid(-(platt[:, 0] * f + platt[:, 1]))
    total = proba_BK.sum(-1, keepdims=True)
    proba_BK = jnp.where(total > 0, proba_BK / jnp.where(total > 0, total, 1.0), 1.0 / len(classes))
  return proba_BK @ _place(classes, num_classes)

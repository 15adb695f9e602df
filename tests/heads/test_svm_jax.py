"""The JAX SVM decision against scikit-learn's fitted SVC (the CNN-SVM's exported head)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets, preprocessing, svm

from research.heads import svm_jax


def _fitted(classes: int):
  x, y = datasets.make_blobs(240, n_features=6, centers=classes, cluster_std=3.5, random_state=classes)
  scaler = preprocessing.StandardScaler().fit(x)
  model = svm.SVC(C=10.0, kernel="rbf", gamma="scale").fit(scaler.transform(x), y)
  x_new, _ = datasets.make_blobs(300, n_features=6, centers=classes, cluster_std=3.5, random_state=classes + 50)
  return scaler, model, x_new


@pytest.mark.parametrize("classes", [2, 3, 6])
def test_decision_and_prediction_match_sklearn(classes):
  scaler, model, x_new = _fitted(classes)
  params = svm_jax.svc_params(model, scaler)
  z = scaler.transform(x_new)
  expected = model.set_params(decision_function_shape="ovo").decision_function(z).reshape(len(z), -1)
  np.testing.assert_allclose(np.asarray(svm_jax.decision_ovo(params, x_new)), expected, atol=1e-4)
  index = np.asarray(svm_jax.predict_index(params, x_new))
  np.testing.assert_array_equal(params["classes"][index], model.predict(z))
  votes = np.asarray(svm_jax.votes(params, x_new))
  np.testing.assert_array_equal(votes.sum(1), np.full(len(z), max(classes * (classes - 1) // 2, 1)))


def test_string_labels_keep_sklearn_order():
  x, y = datasets.make_blobs(90, n_features=4, centers=3, random_state=0)
  names = np.array(["M_full", "F_half", "M_half"])[y]
  model = svm.SVC(gamma=0.5).fit(x, names)
  params = svm_jax.svc_params(model)
  index = np.asarray(svm_jax.predict_index(params, x))
  np.testing.assert_array_equal(params["classes"][index], model.predict(x))


def test_other_kernels_are_refused():
  x, y = datasets.make_blobs(30, n_features=2, centers=2, random_state=0)
  with pytest.raises(ValueError, match="rbf"):
    svm_jax.svc_params(svm.SVC(kernel="linear").fit(x, y))


@pytest.mark.parametrize("classes", [2, 4])
def test_ovr_decision_and_platt_probabilities_match_the_head(classes):
  from scipy.special import expit
  scaler, model, x_new = _fitted(classes)
  params = svm_jax.svc_params(model, scaler)
  z = scaler.transform(x_new)
  ovr = model.set_params(decision_function_shape="ovr").decision_function(z).reshape(len(z), -1)
  np.testing.assert_allclose(np.asarray(svm_jax.ovr_decision(params, x_new)), ovr, atol=1e-4)
  platt = np.random.default_rng(0).uniform([-3.0, -0.5], [-0.5, 0.5], size=(classes, 2))
  # The head's formula (research/heads/svm.py), in float64 NumPy, into 6 class-id columns.
  if classes == 2:
    positive = expit(-(platt[0, 0] * ovr[:, 0] + platt[0, 1]))
    expected = np.stack([1 - positive, positive], 1)
  else:
    expected = expit(-(platt[:, 0] * ovr + platt[:, 1]))
    expected /= expected.sum(1, keepdims=True)
  expected = np.concatenate([expected, np.zeros((len(z), 6 - classes))], 1)
  got = np.asarray(svm_jax.platt_probabilities(params, platt, x_new, num_classes=6))
  np.testing.assert_allclose(got, expected, atol=1e-4)

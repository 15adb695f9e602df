"""Ridge head vs scikit-learn's StandardScaler(with_mean=False) + RidgeClassifierCV (aeon's pipeline)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import linear_model, pipeline, preprocessing

from research.heads import ridge

ALPHAS = np.logspace(-3, 3, 10)


def _data(n, d, classes, seed):
  """Four informative features under a shared nuisance factor: the LOO curve has an interior minimum."""
  rng = np.random.default_rng(seed)
  y = np.arange(n + 30) % classes
  x = rng.normal(size=(n + 30, d))
  x[:, :4] += 1.5 * (y[:, None] == np.arange(4) % classes)
  x[:, 4:] += 3 * rng.normal(size=(n + 30, 1))
  x[:, 5] = 7.0  # a constant feature: scale 1, as scikit-learn
  return x[:n], y[:n], x[n:], y[n:]


def _sklearn(x, y, standardize=True):
  steps = [preprocessing.StandardScaler(with_mean=False)] if standardize else []
  steps.append(linear_model.RidgeClassifierCV(alphas=ALPHAS, store_cv_results=True))
  return pipeline.make_pipeline(*steps).fit(x, y)


@pytest.mark.parametrize("n,d,classes", [(24, 120, 2), (24, 120, 4), (150, 12, 2), (150, 12, 4)])
def test_matches_sklearn_ridge_classifier_cv(n, d, classes):
  x, y, x_test, _ = _data(n, d, classes, seed=1)
  reference = _sklearn(x, y)
  head = ridge.RidgeClassifierCV(num_classes=classes).fit(x, y)
  fitted = reference[-1]
  assert ALPHAS[0] < fitted.alpha_ < ALPHAS[-1], "the data should make the LOO choice non-trivial"
  assert head.alpha == pytest.approx(fitted.alpha_)
  # Mean squared leave-one-out error of every alpha (scikit-learn keeps the squared errors).
  np.testing.assert_allclose(head.loo_mse, fitted.cv_results_.mean(axis=(0, 1)), rtol=1e-9)
  want = reference.decision_function(x_test)
  got = head.decision(x_test)
  if classes == 2:  # scikit-learn keeps one column (class 1); ours are mirrored
    np.testing.assert_allclose(got[:, 0], -got[:, 1], rtol=1e-9, atol=1e-12)
    got = got[:, 1]
  np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
  np.testing.assert_array_equal(head.predict(x_test), reference.predict(x_test))


@pytest.mark.parametrize("n,d", [(20, 60), (80, 10)])
def test_without_standardization_matches_plain_ridge_classifier_cv(n, d):
  x, y, x_test, _ = _data(n, d, 3, seed=5)
  reference = _sklearn(x, y, standardize=False)
  head = ridge.RidgeClassifierCV(num_classes=3, standardize=False).fit(x, y)
  assert head.alpha == pytest.approx(reference[-1].alpha_)
  np.testing.assert_allclose(head.decision(x_test), reference.decision_function(x_test),
                             rtol=1e-8, atol=1e-10)


def test_temperature_minimises_log_loss_of_explicit_leave_one_out_decisions():
  """Refit scikit-learn's Ridge N times (each example left out once) at the chosen alpha."""
  x, y, _, _ = _data(24, 40, 3, seed=7)
  head = ridge.RidgeClassifierCV(num_classes=3).fit(x, y)
  z = x / head.arrays()["scale"]  # GCV, like scikit-learn, scales with all the data
  targets = np.where(y[:, None] == np.arange(3), 1.0, -1.0)
  loo = np.zeros_like(targets)
  for i in range(len(y)):
    keep = np.arange(len(y)) != i
    loo[i] = linear_model.Ridge(alpha=head.alpha).fit(z[keep], targets[keep]).predict(z[i:i + 1])[0]

  def log_loss(t):
    logits = t * loo - (t * loo).max(1, keepdims=True)
    return -np.mean(logits[np.arange(len(y)), y] - np.log(np.exp(logits).sum(1)))

  best = ridge.TEMPERATURES[np.argmin([log_loss(t) for t in ridge.TEMPERATURES])]
  assert head.settings()["temperature"] == pytest.approx(best)
  assert ridge.TEMPERATURES[0] < best < ridge.TEMPERATURES[-1]


def test_probabilities_jax_fn_and_stored_arrays_agree():
  x, y, x_test, _ = _data(30, 50, 4, seed=8)
  head = ridge.RidgeClassifierCV(num_classes=4).fit(x, y)
  probs = head.predict_proba(x_test)
  np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-12)
  np.testing.assert_array_equal(probs.argmax(1), head.predict(x_test))
  out = head.jax_fn()(x_test.astype(np.float32))
  np.testing.assert_allclose(out["probs"], probs, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(out["decision"], head.decision(x_test), rtol=1e-4, atol=1e-4)
  arrays = {k: v.copy() for k, v in head.arrays().items()}
  loaded = ridge.RidgeClassifierCV.from_arrays(head.settings(), arrays)
  np.testing.assert_array_equal(loaded.decision(x_test), head.decision(x_test))
  assert loaded.settings() == head.settings()


@pytest.mark.parametrize("n,d", [(30, 60), (80, 10)])
def test_a_class_absent_from_training_changes_nothing_else(n, d):
  x, y, x_test, _ = _data(n, d, 3, seed=9)
  head = ridge.RidgeClassifierCV(num_classes=4).fit(x, y)  # class 3 never seen
  reference = _sklearn(x, y)
  assert head.alpha == pytest.approx(reference[-1].alpha_)
  np.testing.assert_allclose(head.decision(x_test)[:, :3], reference.decision_function(x_test),
                             rtol=1e-8, atol=1e-10)
  assert not np.any(head.predict(x_test) == 3)


def test_bad_labels_are_refused():
  x = np.ones((4, 3))
  with pytest.raises(ValueError, match="single class"):
    ridge.RidgeClassifierCV(num_classes=2).fit(x, np.zeros(4, int))
  with pytest.raises(ValueError, match=r"labels must be integers in \[0, 2\)"):
    ridge.RidgeClassifierCV(num_classes=2).fit(x, np.array([0, 1, 2, 1]))
  with pytest.raises(ValueError, match="call fit"):
    ridge.RidgeClassifierCV(num_classes=2).predict(x)


@pytest.mark.export
def test_jax_fn_converts_to_tflite_builtins():
  pytest.importorskip("tensorflow")
  from research.export.tflite import converter as tflite, parity
  x, y, x_test, _ = _data(30, 50, 4, seed=10)
  head = ridge.RidgeClassifierCV(num_classes=4).fit(x, y)
  x_test = x_test.astype(np.float32)
  exported = tflite.convert(head.jax_fn(), x_test, dynamic_batch=True, where="the ridge head")
  got = parity.run(exported.model, exported.summary(), x_test)
  np.testing.assert_allclose(got["probs"], head.predict_proba(x_test), rtol=1e-4, atol=1e-5)

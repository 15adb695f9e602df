"""The engine's evaluation and prediction against NumPy, whatever the batch size."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from flax import linen as nn

from research.tasks.classification import Classification
from research.train import engine


class _Linear(nn.Module):
  @nn.compact
  def __call__(self, x, *, train: bool, mask=None):
    return nn.Dense(3)(x.reshape(len(x), -1))


def _data(n=10):
  rng = np.random.default_rng(0)
  return {"x": rng.normal(size=(n, 4, 2)).astype(np.float32), "y": (np.arange(n) % 3).astype(np.int32)}


def _numpy_logits(variables, x):
  params = variables["params"]["Dense_0"]
  return x.reshape(len(x), -1) @ np.asarray(params["kernel"]) + np.asarray(params["bias"])


@pytest.mark.parametrize("batch_size", [3, 10, 256])
def test_evaluate_and_predict_equal_numpy_for_any_batch_size(batch_size):
  host, model = _data(), _Linear()
  data = jax.device_put(host)
  variables = model.init(jax.random.PRNGKey(0), host["x"][:1], train=False)
  logits = _numpy_logits(variables, host["x"])
  log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
  metrics = engine.evaluate(model, Classification(), variables, data, batch_size)
  np.testing.assert_allclose(metrics["loss"], -log_probs[np.arange(10), host["y"]].mean(), rtol=1e-5)
  assert float(metrics["accuracy"]) == pytest.approx((logits.argmax(1) == host["y"]).mean())
  probs = engine.predict(model, Classification(), variables, data, batch_size)["probs"]
  assert probs.shape == (10, 3)
  np.testing.assert_allclose(probs, np.exp(log_probs), rtol=1e-5, atol=1e-7)

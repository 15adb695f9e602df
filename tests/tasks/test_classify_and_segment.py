"""classify_and_segment loss and metrics against hand-computed values; the balanced sampler's share."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.tasks import TASKS
from research.tasks import classify_and_segment
from research.train import sampling


def test_focal_loss_hand_computed():
  logits = jnp.asarray([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
  labels = jnp.asarray([0, 1])
  # Example 0: p_t = e^2 / (e^2 + e + 1); example 1: p_t = 1 / (2 + e^3).
  p0 = math.exp(2) / (math.exp(2) + math.exp(1) + 1)
  p1 = 1 / (2 + math.exp(3))
  expected = [-0.5 * (1 - p0) ** 1.0 * math.log(p0), -0.5 * (1 - p1) ** 1.0 * math.log(p1)]
  np.testing.assert_allclose(classify_and_segment.focal_loss(logits, labels, 1.0, 0.5), expected, rtol=1e-6)
  # gamma 2, alpha .25 (Keras' defaults) on example 0.
  np.testing.assert_allclose(classify_and_segment.focal_loss(logits[:1], labels[:1], 2.0, 0.25),
                             [-0.25 * (1 - p0) ** 2 * math.log(p0)], rtol=1e-6)
  # gamma 0, alpha 1 is plain cross-entropy.
  np.testing.assert_allclose(classify_and_segment.focal_loss(logits, labels, 0.0, 1.0), [-math.log(p0), -math.log(p1)],
                             rtol=1e-6)


def _sigmoid(z):
  return 1 / (1 + np.exp(-z))


def test_losses_and_metrics_hand_computed():
  task = TASKS["classify_and_segment"](gamma=1.0, alpha=0.5, cls_weight=1.0, seg_weight=5.0)
  logits = np.asarray([[2.0, 1.0, 0.0]], np.float32)
  seg_logits = np.asarray([[3.0, -1.0, 0.5, -2.0]], np.float32)
  seg = np.asarray([[1.0, 0.5, 0.2, 0.0]], np.float32)
  outputs = {"logits": jnp.asarray(logits), "seg_logits": jnp.asarray(seg_logits)}
  batch = {"y": jnp.asarray([0]), "seg": jnp.asarray(seg)}
  p0 = math.exp(2) / (math.exp(2) + math.exp(1) + 1)
  focal = -0.5 * (1 - p0) * math.log(p0)
  q = _sigmoid(seg_logits[0].astype(np.float64))
  bce = np.mean(-(seg[0] * np.log(q) + (1 - seg[0]) * np.log(1 - q)))
  np.testing.assert_allclose(task.losses(outputs, batch), [focal + 5.0 * bce], rtol=1e-5)
  metrics = task.metrics(outputs, batch)
  # Predicted positive (p >= .5): frames 0, 2; target positive (>= .5): frames 0, 1.
  np.testing.assert_allclose(metrics["seg_accuracy"], [0.5])
  np.testing.assert_allclose(metrics["seg_tp"], [0.25])
  np.testing.assert_allclose(metrics["seg_fp"], [0.25])
  np.testing.assert_allclose(metrics["seg_fn"], [0.25])
  np.testing.assert_allclose(metrics["accuracy"], [1.0])
  np.testing.assert_allclose(metrics["seg_loss"], [bce], rtol=1e-5)
  # A time mask keeps padded frames out of the segmentation loss.
  masked = {**batch, "mask": jnp.asarray([[True, True, False, False]])}
  bce2 = np.mean(-(seg[0, :2] * np.log(q[:2]) + (1 - seg[0, :2]) * np.log(1 - q[:2])))
  np.testing.assert_allclose(task.metrics(outputs, masked)["seg_loss"], [bce2], rtol=1e-5)
  predictions = task.predict(outputs)
  np.testing.assert_allclose(predictions["seg_prob"], q[None], rtol=1e-6)
  np.testing.assert_allclose(predictions["probs"].sum(-1), [1.0], rtol=1e-6)
  with pytest.raises(ValueError, match="seg"):
    task.losses(outputs, {"y": batch["y"]})


@pytest.mark.parametrize("share,batch_size", [(0.2, 32), (0.5, 10), (0.25, 8)])
def test_balanced_sampler_share(share, batch_size):
  n = 500
  positive = np.zeros(n, np.int32)
  positive[np.random.default_rng(0).choice(n, 15, replace=False)] = 1  # 3% positives
  data = {"x": jnp.zeros((n, 2)), "has_start": jnp.asarray(positive)}
  fn = jax.jit(lambda key: sampling.SAMPLERS["balanced"](key, data, batch_size, share=share))
  index, weight = fn(jax.random.key(0))
  index, weight = np.asarray(index), np.asarray(weight)
  assert index.shape == (-(-n // batch_size), batch_size) and index.dtype == np.int32
  assert index.min() >= 0 and index.max() < n
  np.testing.assert_array_equal(weight, 1.0)
  per_batch = positive[index].mean(1)
  assert per_batch.min() >= share - 1e-9, per_batch.min()
  # Every positive is used (cycled through), and the rest covers most of the data.
  assert set(np.flatnonzero(positive)) <= set(index.reshape(-1))
  uniform, _ = sampling.SAMPLERS["uniform"](jax.random.key(0), data, batch_size)
  assert positive[np.asarray(uniform)].mean(1).min() < share  # the test can tell the two apart
  # A different key draws different batches.
  other, _ = fn(jax.random.key(1))
  assert not np.array_equal(other, index)


def test_balanced_sampler_without_positives_and_bad_key():
  data = {"x": jnp.zeros((20, 2)), "has_start": jnp.zeros(20, jnp.int32)}
  index, weight = sampling.balanced(jax.random.key(0), data, 8)
  assert np.asarray(index).max() < 20 and np.asarray(weight).shape == (3, 8)
  with pytest.raises(ValueError, match="positive_key"):
    sampling.balanced(jax.random.key(0), {"x": data["x"]}, 8)

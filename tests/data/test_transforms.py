"""Jitter restricted to some channels leaves the others exactly as they were."""

import jax
import ml_collections
import numpy as np

from research.data import transforms


def test_jitter_on_selected_channels_only():
  cfg = ml_collections.ConfigDict({
      "enabled": True, "mode": "online", "factor": 1,
      "jitter": {"enabled": True, "std": 0.5, "channels": (0,)},
      "scale": {"enabled": False, "low": 1.0, "high": 1.0},
      "shift": {"enabled": False, "max": 0}})
  x = np.tile(np.array([0.0, 1.0, 0.0], np.float32), (64, 200, 1))  # (B, T, F): signal + one-hot
  out = np.asarray(transforms.build_augment(cfg)(jax.random.PRNGKey(0), x))
  np.testing.assert_array_equal(out[..., 1:], x[..., 1:])
  assert abs(out[..., 0].std() - 0.5) < 0.01

"""The frequency-mixture generator: seed sizes, determinism, targets."""

import numpy as np

from configs import lstm_filter
from research.data import load_dataset, mixture


def test_seed_sizes_and_shapes():
  data = load_dataset(lstm_filter.get_config())
  assert data.sizes() == {"train": 35_823, "val": 3_981, "test": 39_804}
  assert data.train["x"].shape == (35_823, 50, 5)
  assert data.train["y"].shape == (35_823, 50, 1)
  assert data.train["x"].dtype == np.float32


def test_deterministic_and_test_signal_differs():
  cfg = lstm_filter.get_config("smoke")
  a, b = load_dataset(cfg), load_dataset(cfg)
  for split in ("train", "val", "test"):
    for key in ("x", "y"):
      np.testing.assert_array_equal(a.split(split)[key], b.split(split)[key])
  # Same clean targets, different noise: the test mixture is another draw.
  assert not np.allclose(a.test["x"][:, :, 0], mixture.windows(
      *mixture.mixture_signal(cfg.data.frequencies, cfg.data.sampling_rate, cfg.data.duration,
                              cfg.data.amplitude_jitter, cfg.data.phase_jitter, cfg.data.noise_std,
                              cfg.data.train_seed)[1:], cfg.data.window, cfg.data.stride)["x"][:, :, 0])


def test_selector_and_target_agree():
  times, mix, targets = mixture.mixture_signal((1.0, 3.0), 100.0, 1.0, 0.0, 0.0, 0.0, seed=0)
  np.testing.assert_allclose(mix, (np.sin(2 * np.pi * times) + np.sin(6 * np.pi * times)) / 2, atol=1e-6)
  w = mixture.windows(mix, targets, window=10, stride=5)
  assert w["x"].shape == (19 * 2, 10, 3)
  for row in range(len(w["x"])):
    k = w["freq_index"][row]
    assert w["x"][row, 0, 1 + k] == 1 and w["x"][row, 0, 1:].sum() == 1
    start = (row // 2) * 5
    np.testing.assert_allclose(w["y"][row, :, 0], targets[k, start:start + 10])

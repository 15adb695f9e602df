"""The frequency-mixture generator: seed sizes, determinism, targets, fresh noise."""

import jax
import numpy as np

from conftest import load_config
from conftest import mixture_data_config as data_config
from research.data import build_redraw, load_dataset
from research.data.synthetic import mixture


def test_seed_sizes_and_shapes():
  data = load_dataset(load_config("lstm_filter", variant=None))
  assert data.sizes() == {"train": 35_823, "val": 3_981, "test": 39_804}
  assert data.train["x"].shape == (35_823, 50, 5)
  assert data.train["y"].shape == (35_823, 50, 1)
  assert data.train["x"].dtype == np.float32


def test_deterministic_and_test_signal_differs():
  cfg = load_config("lstm_filter")
  a, b = load_dataset(cfg), load_dataset(cfg)
  for split in ("train", "val", "test"):
    for key in ("x", "y", "start"):
      np.testing.assert_array_equal(a.split(split)[key], b.split(split)[key])
  # Same clean targets, different noise: the test mixture is another draw.
  _, train_mix, targets = mixture.mixture_signal(cfg.data, cfg.data.train_seed)
  train_windows = mixture.windows(train_mix, targets, cfg.data.window, cfg.data.stride)
  np.testing.assert_array_equal(a.test["y"], train_windows["y"])
  assert not np.allclose(a.test["x"][:, :, 0], train_windows["x"][:, :, 0])


def test_selector_target_and_start_agree():
  cfg = data_config()
  times, mix, targets = mixture.mixture_signal(cfg, seed=0)
  expected = (np.sin(2 * np.pi * times) + np.sin(6 * np.pi * times + 0.5)) / 2
  np.testing.assert_allclose(mix, expected, atol=1e-6)
  np.testing.assert_allclose(targets[1], np.sin(6 * np.pi * times + 0.5), atol=1e-6)
  w = mixture.windows(mix, targets, window=10, stride=5)
  assert w["x"].shape == (19 * 2, 10, 3)
  for row in range(len(w["x"])):
    k = w["freq_index"][row]
    assert w["x"][row, 0, 1 + k] == 1 and w["x"][row, 0, 1:].sum() == 1
    start = (row // 2) * 5
    assert w["start"][row] == start
    np.testing.assert_allclose(w["y"][row, :, 0], targets[k, start:start + 10])
    np.testing.assert_allclose(w["x"][row, :, 0], mix[start:start + 10])


def test_redraw_without_noise_rebuilds_the_clean_mixture():
  cfg = data_config()
  _, mix, targets = mixture.mixture_signal(cfg, seed=0)
  w = mixture.windows(mix, targets, window=10, stride=5)
  batch = {**w, "x": w["x"].copy()}
  batch["x"][:, :, 0] = 0.0
  out = build_redraw(cfg)(jax.random.PRNGKey(0), batch)
  np.testing.assert_allclose(np.asarray(out["x"]), w["x"], atol=1e-5)
  np.testing.assert_array_equal(np.asarray(out["y"]), w["y"])


def test_redraw_draws_the_configured_noise_afresh():
  a, p = 0.2, 0.3
  cfg = data_config(amplitude_jitter=a, phase_jitter=p)
  _, mix, targets = mixture.mixture_signal(cfg, seed=0)
  w = mixture.windows(mix, targets, window=10, stride=5)
  batch = {k: np.repeat(v[:1], 20_000, axis=0) for k, v in w.items()}  # One window, many draws.
  redraw = build_redraw(cfg)
  first = np.asarray(redraw(jax.random.PRNGKey(0), batch)["x"][:, :, 0])
  again = np.asarray(redraw(jax.random.PRNGKey(1), batch)["x"][:, :, 0])
  assert not np.allclose(first, again)
  # E[A sin(theta + e)] = sin(theta) sin(p) / p for A ~ U(1-a, 1+a), e ~ U(-p, p).
  times = np.arange(10) / cfg.sampling_rate
  angles = mixture.clean_angles(cfg, times)
  np.testing.assert_allclose(first.mean(0), (np.sin(angles) * np.sin(p) / p).mean(0), atol=0.005)
  # And the same spread as the NumPy generator's draws at those samples.
  numpy_draws = np.stack([mixture.mixture_signal(cfg, seed)[1][:10] for seed in range(2_000)])
  np.testing.assert_allclose(first.std(0), numpy_draws.std(0), rtol=0.1)


def test_redraw_off_by_config():
  assert build_redraw(data_config(fresh_noise=False)) is None

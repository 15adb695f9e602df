"""The approximate Bayes floor of the mixture task against independent computations."""

import numpy as np
from scipy import stats

from conftest import mixture_data_config as data_config
from research.data.synthetic import mixture
from research.evaluation import mixture_floor


def _cfg(**overrides):
  return data_config(**{**dict(frequencies=(1.0, 2.0), phases=(0.3, 1.1), sampling_rate=20.0, duration=2.0,
                               window=5, stride=1, amplitude_jitter=0.1, phase_jitter=0.2, noise_std=0.05),
                        **overrides})


def test_period_samples():
  assert mixture_floor.period_samples(_cfg(frequencies=(1.0, 3.0, 5.0, 7.0), sampling_rate=1000.0)) == 1000
  assert mixture_floor.period_samples(_cfg(frequencies=(2.5, 5.0), sampling_rate=100.0)) == 40
  assert mixture_floor.period_samples(_cfg(frequencies=(1.0, np.sqrt(2)))) is None


def test_sample_moments_match_monte_carlo():
  cfg = _cfg()
  angles = np.array([[0.2, 1.0, 2.5], [0.7, -1.2, 3.0]])
  mean, var = mixture_floor.sample_moments(cfg, angles)
  rng = np.random.default_rng(0)
  shape = (400_000,) + angles.shape
  draws = (rng.uniform(0.9, 1.1, shape) * np.sin(angles + rng.uniform(-0.2, 0.2, shape))).mean(1)
  draws += rng.normal(0, 0.05, draws.shape)
  np.testing.assert_allclose(mean, draws.mean(0), atol=2e-3)
  np.testing.assert_allclose(var, draws.var(0), rtol=0.02)


def test_predict_equals_brute_force_posterior():
  cfg = _cfg()
  _, mix, targets = mixture.mixture_signal(cfg, seed=3)
  split = mixture.windows(mix, targets, cfg.window, cfg.stride)
  pred = mixture_floor.predict(cfg, split, chunk=7)

  period, window = 20, cfg.window
  starts = np.arange(len(mix) - window + 1)
  prior = np.bincount(starts % period, minlength=period) / len(starts)
  for row in [0, 5, 17, 40, len(split["x"]) - 1]:
    x, k = split["x"][row, :, 0], split["freq_index"][row]
    for step in range(window):
      post = np.empty(period)
      for c in range(period):
        times = (c + np.arange(step + 1)) / cfg.sampling_rate
        angles = mixture.clean_angles(cfg, times)
        mean, var = mixture_floor.sample_moments(cfg, angles)
        post[c] = prior[c] * np.prod(stats.norm.pdf(x[:step + 1], mean, np.sqrt(var)))
      post /= post.sum()
      target_angle = mixture.clean_angles(cfg, (np.arange(period) + step) / cfg.sampling_rate)[k]
      np.testing.assert_allclose(pred[row, step, 0], post @ np.sin(target_angle), atol=1e-5)


def test_floor_vanishes_late_in_a_clean_window():
  cfg = _cfg(amplitude_jitter=0.0, phase_jitter=0.0, noise_std=0.01, window=20, sampling_rate=200.0)
  _, mix, targets = mixture.mixture_signal(cfg, seed=0)
  split = mixture.windows(mix, targets, cfg.window, cfg.stride)
  err = (mixture_floor.predict(cfg, split) - split["y"]) ** 2
  assert err[:, -1].mean() < 1e-4  # Twenty clean samples pin the offset down.
  assert err[:, 0].mean() > 0.01  # One sample does not.

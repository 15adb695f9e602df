"""The approximate Bayes floor of a causal filter on the frequency-mixture task.

Every window is the known clean mixture at an unknown offset plus noise. A
filter that reads the window one step at a time can do no better than the
posterior mean of the target over that offset given the samples read so far.
This module computes that posterior over the candidate offsets (one period of
the clean mixture when it has one, else every window start), with the
per-sample noise approximated as Gaussian of the exact mean and variance of
the jittered mean of sinusoids. Its MSE is the floor a perfect causal model
would reach under that approximation; early steps of a window, which have seen
few samples, set most of it.
"""

from __future__ import annotations

import fractions
import math

import numpy as np

from research.data.synthetic import mixture


def period_samples(cfg) -> int | None:
  """Samples per period of the clean mixture, or None when it has none within a second's grid."""
  freqs = [fractions.Fraction(f).limit_denominator(1000) for f in cfg.frequencies]
  if any(f <= 0 for f in freqs) or any(float(f) != float(g) for f, g in zip(freqs, cfg.frequencies)):
    return None
  denominator = math.lcm(*(f.denominator for f in freqs))
  common = math.gcd(*(int(f * denominator) for f in freqs))  # gcd of the frequencies, x denominator
  samples = cfg.sampling_rate * denominator / common
  return int(round(samples)) if abs(samples - round(samples)) < 1e-9 else None


def sample_moments(cfg, angles):
  """Mean and variance of one noisy mixture sample at clean component angles (K, ...)."""
  a, p = cfg.amplitude_jitter, cfg.phase_jitter
  sinc = np.sinc(p / np.pi)  # E[cos e] for e ~ U(-p, p)
  sinc2 = np.sinc(2 * p / np.pi)  # E[cos 2e]
  component_mean = np.sin(angles) * sinc
  component_square = (1 + a * a / 3) * (1 - np.cos(2 * angles) * sinc2) / 2
  num = angles.shape[0]
  mean = component_mean.mean(0)
  var = (component_square - component_mean ** 2).sum(0) / num ** 2 + cfg.noise_std ** 2
  return mean, var


def predict(cfg, split, chunk: int = 512) -> np.ndarray:
  """Posterior-mean predictions (rows, window, 1) for every row of a mixture `split`."""
  starts, first_row = np.unique(split["start"], return_index=True)
  window = split["x"].shape[1]
  signal_len = int(round(cfg.sampling_rate * cfg.duration))
  all_starts = np.arange(signal_len - window + 1)
  period = period_samples(cfg)
  if period is not None and period < signal_len:
    candidates, prior = np.unique(all_starts % period, return_counts=True)
  else:
    candidates, prior = all_starts, np.ones(len(all_starts))
  log_prior = np.log(prior / prior.sum())
  offsets = candidates[:, None] + np.arange(window)[None, :]  # (C, W) sample index of each step
  angles = mixture.clean_angles(cfg, offsets.ravel() / cfg.sampling_rate).reshape(-1, *offsets.shape)
  mean, var = sample_moments(cfg, angles)  # (C, W)
  targets = np.sin(angles)  # (K, C, W)

  observed = split["x"][first_row, :, 0].astype(np.float64)  # (S, W)
  posterior_mean = np.empty((len(starts), window, angles.shape[0]))  # (S, W, K)
  for lo in range(0, len(starts), chunk):
    obs = observed[lo:lo + chunk]
    log_post = np.broadcast_to(log_prior, (len(obs), len(candidates))).copy()
    for step in range(window):
      log_post -= 0.5 * ((obs[:, step, None] - mean[None, :, step]) ** 2 / var[None, :, step]
                         + np.log(var[None, :, step]))
      weights = np.exp(log_post - log_post.max(1, keepdims=True))
      weights /= weights.sum(1, keepdims=True)
      posterior_mean[lo:lo + chunk, step] = weights @ targets[:, :, step].T
  row_start = np.searchsorted(starts, split["start"])
  return posterior_mean[row_start, :, split["freq_index"]][..., None].astype(np.float32)

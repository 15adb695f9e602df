"""The frequency-filter task's data, made in memory: pick one sinusoid out of a noisy mixture.

Input per step: (mixture sample, one-hot selector over the frequencies).
Target per step: the clean unit sinusoid sin(2 pi f t + phase_f) of the selected
frequency. Each component carries per-sample amplitude ~ U(1-a, 1+a) and phase
noise ~ U(-p, p); the mixture is their mean plus Gaussian noise (std `noise_std`).
"""

from __future__ import annotations

import numpy as np


def clean_angles(cfg, times, xp=np):
  """2 pi f t + phase_f for every frequency of `cfg`: (K, *times.shape) radians (NumPy or jax.numpy)."""
  shape = (-1,) + (1,) * times.ndim
  frequencies = xp.asarray(cfg.frequencies, times.dtype).reshape(shape)
  phases = xp.asarray(cfg.phases, times.dtype).reshape(shape)
  return 2 * np.pi * frequencies * times[None] + phases


def mixture_signal(cfg, seed):
  """Returns (times (N,), noisy mixture (N,), clean targets (K, N)), noise drawn from `seed`."""
  rng = np.random.default_rng(seed)
  times = np.arange(int(round(cfg.sampling_rate * cfg.duration))) / cfg.sampling_rate
  angles = clean_angles(cfg, times)
  amplitude = rng.uniform(1 - cfg.amplitude_jitter, 1 + cfg.amplitude_jitter, angles.shape)
  phase_noise = rng.uniform(-cfg.phase_jitter, cfg.phase_jitter, angles.shape)
  mixture = (amplitude * np.sin(angles + phase_noise)).mean(0)
  mixture += rng.normal(0.0, cfg.noise_std, mixture.shape)
  return times, mixture.astype(np.float32), np.sin(angles).astype(np.float32)


def windows(mixture, targets, window, stride):
  """Every window x every selector.

  Returns x (M*K, window, 1+K), y (M*K, window, 1), freq_index (M*K,) and
  start (M*K,), the sample index where each window begins.
  """
  num_freqs = targets.shape[0]
  starts = np.arange(0, len(mixture) - window + 1, stride)
  if len(starts) == 0:
    raise ValueError(f"config.data: a signal of {len(mixture)} samples is shorter than one window "
                     f"of {window}; raise data.duration or lower data.window")
  offsets = starts[:, None] + np.arange(window)[None, :]  # (M, W)
  mix_MW = mixture[offsets]
  freq_index = np.tile(np.arange(num_freqs), len(starts))
  x = np.zeros((len(starts) * num_freqs, window, 1 + num_freqs), np.float32)
  x[:, :, 0] = np.repeat(mix_MW, num_freqs, axis=0)
  x[np.arange(len(x)), :, 1 + freq_index] = 1.0
  y = targets[freq_index[:, None], np.repeat(offsets, num_freqs, axis=0)][..., None]
  return {"x": x, "y": y.astype(np.float32), "freq_index": freq_index.astype(np.int32),
          "start": np.repeat(starts, num_freqs).astype(np.int32)}


def signal_windows(cfg, noise_seed):
  """`windows` of the mixture drawn with `noise_seed`, at the config's window and stride."""
  _, mixture, targets = mixture_signal(cfg, noise_seed)
  return windows(mixture, targets, cfg.window, cfg.stride)

"""The frequency-filter task: pick one sinusoid out of a noisy mixture of several.

Input per step: (mixture sample, one-hot selector over the frequencies).
Target per step: the clean unit sinusoid sin(2 pi f t) of the selected frequency.
"""

from __future__ import annotations

import numpy as np

from research.data import dataset as dataset_lib


def mixture_signal(frequencies, sampling_rate, duration, amplitude_jitter, phase_jitter,
                   noise_std, seed):
  """Returns (times (N,), noisy mixture (N,), clean targets (K, N)).

  Each component gets per-sample amplitude ~ U(1-a, 1+a) and phase ~ U(-p, p);
  the mixture is their mean plus Gaussian noise.
  """
  rng = np.random.default_rng(seed)
  times = np.arange(int(round(sampling_rate * duration))) / sampling_rate
  phases = 2 * np.pi * np.asarray(frequencies, np.float64)[:, None] * times[None, :]
  amplitude = rng.uniform(1 - amplitude_jitter, 1 + amplitude_jitter, phases.shape)
  phase_noise = rng.uniform(-phase_jitter, phase_jitter, phases.shape)
  mixture = (amplitude * np.sin(phases + phase_noise)).mean(0)
  mixture += rng.normal(0.0, noise_std, mixture.shape)
  return times, mixture.astype(np.float32), np.sin(phases).astype(np.float32)


def windows(mixture, targets, window, stride):
  """Every window x every selector: x (M*K, window, 1+K), y (M*K, window, 1), freq_index (M*K,)."""
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
  return {"x": x, "y": y.astype(np.float32), "freq_index": freq_index.astype(np.int32)}


def _signal_split(cfg, noise_seed):
  _, mixture, targets = mixture_signal(
      cfg.frequencies, cfg.sampling_rate, cfg.duration, cfg.amplitude_jitter,
      cfg.phase_jitter, cfg.noise_std, noise_seed)
  return windows(mixture, targets, cfg.window, cfg.stride)


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """Train/val from one signal (random 90/10 split by `seed`), test from a second signal."""
  train, val = dataset_lib.random_split(_signal_split(cfg, cfg.train_seed), cfg.val_fraction, seed)
  test = _signal_split(cfg, cfg.test_seed)
  names = [f"{f:g}Hz" for f in cfg.frequencies]
  meta = {
      "source": "synthetic mixture of sinusoids",
      "frequencies": list(cfg.frequencies),
      "frequency_names": names,
      "sampling_rate": cfg.sampling_rate,
      "feature_layout": ["mixture"] + [f"select_{n}" for n in names],
  }
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)

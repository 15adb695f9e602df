"""The frequency-filter task: pick one sinusoid out of a noisy mixture of several.

Input per step: (mixture sample, one-hot selector over the frequencies).
Target per step: the clean unit sinusoid sin(2 pi f t + phase_f) of the selected
frequency. Each component carries per-sample amplitude ~ U(1-a, 1+a) and phase
noise ~ U(-p, p); the mixture is their mean plus Gaussian noise (std `noise_std`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from research.data import dataset as dataset_lib


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


def build_redraw(cfg):
  """`fn(key, batch) -> batch` that redraws the mixture channel's noise, or None.

  With `cfg.fresh_noise`, every training step sees the same clean signal under
  a new draw of the configured noise, so the model cannot memorise the one
  training signal's noise (validation windows overlap training windows, so
  memorising would flatter validation and not test).
  """
  if not cfg.get("fresh_noise", False):
    return None
  a, p = cfg.amplitude_jitter, cfg.phase_jitter

  def redraw(key, batch):
    n = batch["start"][:, None] + jnp.arange(batch["x"].shape[1])[None, :]  # (B, W)
    angles = clean_angles(cfg, (n / cfg.sampling_rate).astype(jnp.float32), jnp)  # (K, B, W)
    amp_key, phase_key, noise_key = jax.random.split(key, 3)
    amplitude = jax.random.uniform(amp_key, angles.shape, minval=1 - a, maxval=1 + a)
    phase_noise = jax.random.uniform(phase_key, angles.shape, minval=-p, maxval=p)
    mixture = (amplitude * jnp.sin(angles + phase_noise)).mean(0)
    mixture = mixture + cfg.noise_std * jax.random.normal(noise_key, mixture.shape)
    x = jnp.asarray(batch["x"])
    return {**batch, "x": x.at[:, :, 0].set(mixture.astype(x.dtype))}

  return redraw


def _signal_split(cfg, noise_seed):
  _, mixture, targets = mixture_signal(cfg, noise_seed)
  return windows(mixture, targets, cfg.window, cfg.stride)


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """Train/val from one signal (random split by `cfg.split_seed`), test from a second signal."""
  train, val = dataset_lib.random_split(_signal_split(cfg, cfg.train_seed), cfg.val_fraction,
                                        dataset_lib.split_seed(cfg, seed))
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

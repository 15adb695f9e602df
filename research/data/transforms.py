"""What changes the data during a run: window augmentation and per-epoch redraws of noise.

Augmentation: jitter, amplitude scaling, circular time shift. Two modes (`config.augment.mode`):
  * "online": `build_augment(config.augment)` returns `fn(key, x_B...) -> x_B...`,
    one independent draw per example (vmapped over the batch), applied on device
    inside the compiled epoch, so every epoch sees fresh copies.
  * "static": the seed's `create_augmented_dataset`: the training split is
    replaced by the original plus `factor - 1` augmented copies
    (`augment_static`), drawn once with NumPy before training.

Per example: x + N(0, jitter.std) noise, times a U(scale.low, scale.high)
factor, rolled by an integer shift uniform in [-shift.max, shift.max] along
time (axis 0 of an example). Order as in the seed: jitter, scale, shift.
Circular shifts assume no time padding (sEMG windows have none).

Redraws (`build_redraw(config.data)`): datasets made in memory from a known clean signal
draw fresh noise for every training batch on device (the mixture's `fresh_noise`).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from research.data.synthetic.mixture import clean_angles

MODES = ("online", "static")


def _check(cfg):
  if cfg.mode not in MODES:
    raise ValueError(f"config.augment.mode must be one of {MODES}; found {cfg.mode!r}")
  if cfg.scale.enabled and not cfg.scale.low <= cfg.scale.high:
    raise ValueError(f"config.augment.scale: low ({cfg.scale.low}) must not exceed high ({cfg.scale.high})")
  if cfg.shift.enabled and cfg.shift.max < 0:
    raise ValueError(f"config.augment.shift.max must be >= 0; found {cfg.shift.max}")


def augment_example(cfg, key, x):
  """One example (T, ...) augmented with its own draws from `key`."""
  jitter_key, scale_key, shift_key = jax.random.split(key, 3)
  if cfg.jitter.enabled:
    noise = cfg.jitter.std * jax.random.normal(jitter_key, x.shape, x.dtype)
    channels = cfg.jitter.get("channels", ())  # () = every channel
    if channels:
      noise = noise * jnp.zeros(x.shape[-1], x.dtype).at[jnp.asarray(channels)].set(1.0)
    x = x + noise
  if cfg.scale.enabled:
    x = x * jax.random.uniform(scale_key, (), x.dtype, cfg.scale.low, cfg.scale.high)
  if cfg.shift.enabled and cfg.shift.max > 0:
    shift = jax.random.randint(shift_key, (), -cfg.shift.max, cfg.shift.max + 1)
    x = jnp.roll(x, shift, axis=0)
  return x


def build_augment(cfg) -> Callable | None:
  """`fn(key, x_B...) -> x_B...` for online augmentation, or None.

  None when `cfg` is missing or disabled, when every transform is switched
  off, and in static mode (that one changes the dataset, not the epoch).
  """
  if cfg is None or not cfg.enabled:
    return None
  _check(cfg)
  if cfg.mode == "static" or not (cfg.jitter.enabled or cfg.scale.enabled or cfg.shift.enabled):
    return None

  def augment(key, x_B):
    keys = jax.random.split(key, x_B.shape[0])
    return jax.vmap(lambda k, x: augment_example(cfg, k, x))(keys, x_B)

  return augment


def augment_static(cfg, split: dict, seed: int) -> dict:
  """The seed's static mode: `split` plus `cfg.factor - 1` augmented copies of it.

  Every key is repeated alongside `x`; copies are drawn once, on the host
  (jax on CPU), from `seed`.
  """
  factor = int(cfg.factor)
  if factor < 1:
    raise ValueError(f"config.augment.factor must be >= 1 (copies including the original); found {factor}")
  fn = jax.jit(jax.vmap(lambda k, x: augment_example(cfg, k, x)))
  keys = jax.random.split(jax.random.PRNGKey(seed), factor - 1) if factor > 1 else []
  copies = [np.asarray(split["x"])]
  for key in keys:
    copies.append(np.asarray(fn(jax.random.split(key, len(split["x"])), jnp.asarray(split["x"]))))
  out = {k: np.concatenate([v] * factor) for k, v in split.items() if k != "x"}
  out["x"] = np.concatenate(copies).astype(np.float32)
  return out


def static_train_split(config, split: dict) -> dict:
  """`split` with static augmentation's copies when the config asks for them, else unchanged."""
  cfg = config.get("augment") if hasattr(config, "get") else None
  if cfg is None or not cfg.enabled or cfg.mode != "static":
    return split
  _check(cfg)
  return augment_static(cfg, split, int(config.seed))


def mixture_redraw(cfg):
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


REDRAWS = {"mixture": mixture_redraw}


def build_redraw(data_config):
  """`fn(key, batch) -> batch` drawing fresh noise for a training batch, or None."""
  builder = REDRAWS.get(data_config.name)
  return builder(data_config) if builder else None

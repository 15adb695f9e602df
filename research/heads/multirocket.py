"""MultiRocket (Tan, Dempster, Bergmeir & Webb, 2022): MiniRocket's kernels, four pooling operators.

MiniRocket's 84 kernels, dilations and quantile biases (research/heads/minirocket.py, fitted as
there) on the series and, fitted separately, on its first difference. Each (kernel, bias) gives
four features of the kernel's output C over the positions it reads (all, or the unpadded ones,
alternating as in MiniRocket), numbered j = 0 .. n - 1 from the first read position:
  PPV   the proportion of C > bias;
  LSPV  the longest stretch: the largest gap between consecutive positions with C < bias,
        counting position 0 and n - 1 as ends (the reference code's rule);
  MPV   the mean of C + bias over the positions with C > bias, 0 if none (the reference code
        adds the bias rather than subtracting it; kept, since features must equal aeon's);
  MIPV  the mean index j of the positions with C > bias, -1 if none.
Order (aeon's `MultiRocket`): [PPV, LSPV, MPV, MIPV] of the series, then the same of the
difference; within each, MiniRocket's order (dilation, kernel, bias).

Two rules of the reference transform (aeon 1.6), kept so that the features equal aeon's:
  - the difference uses the series' channel combinations (ours are fitted that way too, so fit
    and transform agree; aeon draws other combinations to fit the difference's biases);
  - on the difference, the four taps left of the centre read one frame late (x[t - 4d + 1], ...),
    while its biases are fitted on the plain convolution (`minirocket.convolve(left_lag=1)`).

  params = fit(x_NTC, seed=0)                  # {'series': minirocket params, 'difference': ...}
  features_NF = transform(params, x_NTC)       # pure JAX; params are static
  features_NF = batched(params)(x_NTC)         # numpy, compiled once, in batches

Series shorter than 10 frames are refused (MiniRocket needs 9 frames of the difference).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
from jax import lax

from research.heads import batching
from research.heads import minirocket

REPRESENTATIONS = ("series", "difference")
LEFT_LAG = {"series": 0, "difference": 1}


def fit(x_NTC, *, num_features: int = 6_250, max_dilations_per_kernel: int = 32, seed: int = 0):
  """MiniRocket parameters of the series and of its difference; deterministic in seed."""
  x_NTC = np.asarray(x_NTC, np.float32)
  if x_NTC.ndim != 3 or x_NTC.shape[1] < minirocket.KERNEL_LENGTH + 1:
    raise ValueError(f"multirocket.fit: x must be (examples, frames >= 10, channels); found {x_NTC.shape}")
  series_seed, difference_seed = np.random.SeedSequence(seed).spawn(2)
  series = minirocket.fit(x_NTC, num_features=num_features, max_dilations_per_kernel=max_dilations_per_kernel,
                          seed=series_seed)
  difference = minirocket.fit(
      np.diff(x_NTC, axis=1), num_features=num_features, max_dilations_per_kernel=max_dilations_per_kernel,
      seed=difference_seed,
      channel_combinations=(series["num_channels_per_combination"], series["channel_indices"]))
  return {"series": series, "difference": difference}


def num_output_features(params) -> int:
  return 4 * sum(minirocket.num_output_features(params[r]) for r in REPRESENTATIONS)


def _pool(out_NKT, bias_KB, start: int, stop: int):
  """PPV, LSPV, MPV, MIPV (each (N, K, B)) of outputs over positions start <= t < stop per kernel
  (start_K, stop_K arrays)."""
  steps = out_NKT.shape[-1]
  t_T = np.arange(steps)
  read_KT = (t_T >= start[:, None]) & (t_T < stop[:, None])
  j_KT = (t_T - start[:, None]).astype(np.float32)  # index from the first read position
  n_K1 = (stop - start).astype(np.float32)[:, None]
  c = out_NKT[:, :, None, :]
  b = bias_KB[None, :, :, None]
  above = (c > b) & read_KT[None, :, None, :]
  below = (c < b) & read_KT[None, :, None, :]
  count = above.sum(-1).astype(jnp.float32)
  some = count > 0
  ppv = count / n_K1
  mpv = jnp.where(some, jnp.where(above, c + b, 0.0).sum(-1) / jnp.maximum(count, 1.0), 0.0)
  mipv = jnp.where(some, jnp.where(above, j_KT[None, :, None, :], 0.0).sum(-1) / jnp.maximum(count, 1.0), -1.0)
  last_below = lax.cummax(jnp.where(below, j_KT[None, :, None, :], 0.0), axis=3)
  previous = jnp.concatenate([jnp.zeros_like(last_below[..., :1]), last_below[..., :-1]], axis=-1)
  gaps = jnp.where(below, j_KT[None, :, None, :] - previous, 0.0).max(-1)
  lspv = jnp.maximum(gaps, (n_K1 - 1.0) - last_below[..., -1])
  return ppv, lspv, mpv, mipv


def transform(params, x_NTC):
  """MultiRocket features (N, F) float32 of x (N, T, C), T >= 10."""
  x_NTC = jnp.asarray(x_NTC, jnp.float32)
  channels = int(params["series"]["num_channels"])
  if x_NTC.ndim != 3 or x_NTC.shape[2] != channels or x_NTC.shape[1] < minirocket.KERNEL_LENGTH + 1:
    raise ValueError(f"multirocket.transform: x must be (examples, frames >= 10, {channels} channels) "
                     f"as in fit; found shape {x_NTC.shape}")
  x_NCT = jnp.swapaxes(x_NTC, 1, 2)
  inputs = {"series": x_NCT, "difference": jnp.diff(x_NCT, axis=-1)}
  n = x_NCT.shape[0]
  blocks = []
  for name in REPRESENTATIONS:
    p, z_NCT = params[name], inputs[name]
    steps = z_NCT.shape[-1]
    # The reference transform reads the difference with the series' channel combinations.
    combos = {**p, "num_channels_per_combination": params["series"]["num_channels_per_combination"],
              "channel_indices": params["series"]["channel_indices"]}
    counts = p["num_features_per_dilation"].tolist()
    starts = np.concatenate([[0], np.cumsum(minirocket.NUM_KERNELS * np.asarray(counts))])
    pooled = [[] for _ in range(4)]
    for d_index, count in enumerate(counts):
      out_NKT = minirocket.convolve(combos, d_index, z_NCT, left_lag=LEFT_LAG[name])
      half = (minirocket.KERNEL_LENGTH // 2) * int(p["dilations"][d_index])
      valid = minirocket.uses_valid_positions(d_index)
      start, stop = np.where(valid, half, 0), np.where(valid, steps - half, steps)
      bias_KB = p["biases"][starts[d_index]:starts[d_index + 1]].reshape(minirocket.NUM_KERNELS, count)
      for i, feature in enumerate(_pool(out_NKT, bias_KB, start, stop)):
        pooled[i].append(feature.reshape(n, -1))
    blocks += [jnp.concatenate(p_list, axis=1) for p_list in pooled]
  return jnp.concatenate(blocks, axis=1)


def batched(params, *, batch_size: int = 16):
  """A numpy function x (N, T, C) -> features (N, F), `transform` compiled once for batches
  (small ones: the pooling holds (batch, 84, biases, T) arrays)."""
  return batching.in_batches(functools.partial(transform, params), batch_size=batch_size)

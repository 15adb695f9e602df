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
  features_NF = batched(params)(x_NTC)         # numpy, one program for every seed

Series shorter than 10 frames are refused (MiniRocket needs 9 frames of the difference).
"""

from __future__ import annotations

import jax
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


def _pool(out_NGT, bias_GB, start_G, stop_G):
  """PPV, LSPV, MPV, MIPV (each (N, G, B)) of outputs (N, G, T) against biases (G, B) over the
  positions start_G <= t < stop_G of each row g (`_pool_between`, rows as its kernels)."""
  pooled = _pool_between(jnp.moveaxis(out_NGT, -1, 0), jnp.asarray(bias_GB).T, jnp.asarray(start_G),
                         jnp.asarray(stop_G))
  return tuple(jnp.swapaxes(feature, 1, 2) for feature in pooled)


def _structure(params) -> tuple:
  """What the compiled program is specialised to: each representation's dilations and bias
  counts (fixed by the series' length and the number of features), and the channels."""
  return tuple((tuple(params[r]["dilations"].tolist()), tuple(params[r]["num_features_per_dilation"].tolist()))
               for r in REPRESENTATIONS) + (int(params["series"]["num_channels"]),)


def _series_combinations(params) -> dict:
  """The series' channel combinations: the reference transform reads the difference with them."""
  return {key: params["series"][key] for key in ("num_channels_per_combination", "channel_indices")}


def _arrays(params) -> dict:
  """The per-seed arrays: each dilation's channel selection (D, C, 84) and the biases."""
  out = {}
  for name in REPRESENTATIONS:
    combos = {**params[name], **_series_combinations(params)}
    out[name] = {"selection": np.stack([minirocket._selection(combos, d) for d in range(len(params[name]["dilations"]))]),
                 "biases": np.asarray(params[name]["biases"], np.float32)}
  return out


def _check(params, x_NTC):
  channels = int(params["series"]["num_channels"])
  if np.ndim(x_NTC) != 3 or np.shape(x_NTC)[2] != channels or np.shape(x_NTC)[1] < minirocket.KERNEL_LENGTH + 1:
    raise ValueError(f"multirocket.transform: x must be (examples, frames >= 10, {channels} channels) "
                     f"as in fit; found shape {np.shape(x_NTC)}")


def _transform(structure, arrays, x_NTC):
  """MultiRocket features of x given `_structure` (static) and `_arrays` (arrays or tracers).

  Every (representation, dilation) with the same number of biases is pooled in one scan (fewer
  programs to compile; no padding of bias counts, which differ up to ~7x between dilations).
  """
  x_NCT = jnp.swapaxes(jnp.asarray(x_NTC, jnp.float32), 1, 2)
  inputs = {"series": x_NCT, "difference": jnp.diff(x_NCT, axis=-1)}
  steps, n = x_NCT.shape[-1], x_NCT.shape[0]
  rows = {}  # bias count -> [(representation, dilation index, outputs, biases, start, stop)]
  for name, (dilations, counts) in zip(REPRESENTATIONS, structure):
    z_NCT = inputs[name]
    first = np.concatenate([[0], np.cumsum(minirocket.NUM_KERNELS * np.asarray(counts))])
    for d_index, (dilation, count) in enumerate(zip(dilations, counts)):
      out_NKT = minirocket.convolve_selected(arrays[name]["selection"][d_index], dilation, z_NCT,
                                             left_lag=LEFT_LAG[name])
      half = (minirocket.KERNEL_LENGTH // 2) * dilation
      valid = minirocket.uses_valid_positions(d_index)
      rows.setdefault(count, []).append((
          name, d_index, jnp.pad(out_NKT, ((0, 0), (0, 0), (0, steps - z_NCT.shape[-1]))),  # unread frames
          arrays[name]["biases"][first[d_index]:first[d_index + 1]].reshape(minirocket.NUM_KERNELS, count),
          np.where(valid, half, 0), np.where(valid, z_NCT.shape[-1] - half, z_NCT.shape[-1])))
  pooled = {}  # (representation, dilation index) -> 4 features (N, 84 x count)
  for count, group in rows.items():
    features = _pool(jnp.concatenate([row[2] for row in group], axis=1),
                     jnp.concatenate([row[3] for row in group]),
                     *(np.concatenate([row[i] for row in group]) for i in (4, 5)))
    for i, (name, d_index, *_) in enumerate(group):
      k = minirocket.NUM_KERNELS
      pooled[name, d_index] = [lax.slice_in_dim(f, i * k, (i + 1) * k, axis=1).reshape(n, -1) for f in features]
  return jnp.concatenate([pooled[name, d][op] for name, (dilations, _) in zip(REPRESENTATIONS, structure)
                          for op in range(4) for d in range(len(dilations))], axis=1)



def transform(params, x_NTC):
  """MultiRocket features (N, F) float32 of x (N, T, C), T >= 10."""
  _check(params, x_NTC)
  return _transform(_structure(params), _arrays(params), x_NTC)


def _pool_between(out_TNK, bias_BK, start_K, stop_K):
  """PPV, LSPV, MPV, MIPV (each (N, B, K)) of time-major outputs (T, N, K) against biases (B, K),
  kernel k reading the positions start_K[k] <= t < stop_K[k] (arrays or tracers).

  One `lax.scan` over time with running sums as the carry: XLA:CPU ran this ~15x faster than the
  same operators on (N, K, B, T) arrays (measured at T = 24 and 150), which it materialises.
  """
  t_T = jnp.arange(out_TNK.shape[0])
  read_TK = ((t_T[:, None] >= start_K[None]) & (t_T[:, None] < stop_K[None])).astype(jnp.float32)
  j_TK = (t_T[:, None] - start_K[None]).astype(jnp.float32) * read_TK
  n_K = (stop_K - start_K).astype(jnp.float32)
  zeros = jnp.zeros((out_TNK.shape[1],) + bias_BK.shape, jnp.float32)

  def at_time(carry, inputs):
    count, sum_c, sum_j, last_below, longest = carry
    c_NK, read_K, j_K = inputs
    c, read, j = c_NK[:, None, :], read_K[None, None, :], j_K[None, None, :]
    above = minirocket.step(c - bias_BK) * read
    below = minirocket.step(bias_BK - c) * read
    longest = jnp.maximum(longest, below * (j - last_below))
    last_below = last_below + below * (j - last_below)
    return (count + above, sum_c + above * c, sum_j + above * j, last_below, longest), None

  (count, sum_c, sum_j, last_below, longest), _ = lax.scan(at_time, (zeros,) * 5, (out_TNK, read_TK, j_TK))
  some, safe = count > 0, jnp.maximum(count, 1.0)
  return (count / n_K, jnp.maximum(longest, (n_K - 1.0) - last_below),
          jnp.where(some, sum_c / safe + bias_BK, 0.0), jnp.where(some, sum_j / safe, -1.0))


def _planned_pools(plan, x_NWC, length, left_lag: int):
  """One representation's four pooled features (N, 4 F) of x (N, W, C), zero from `length` (traced)
  on; `plan` is `minirocket.plan` of its parameters (dilations and biases as arrays)."""
  n, width, _ = x_NWC.shape
  padded_NTC, pad = minirocket.planned_padding(x_NWC)
  slots, chunk, kernels = plan["biases"].shape
  pooled = jnp.zeros((4, n, slots, chunk, kernels), jnp.float32)

  def one_dilation(d, pooled):
    out_NWK, half = minirocket.planned_outputs(plan, d, padded_NTC, pad, width, left_lag)
    out_TNK = jnp.moveaxis(out_NWK, 1, 0)
    start_K = jnp.where(plan["valid"][d], half, 0)
    stop_K = jnp.where(plan["valid"][d], length - half, length)

    def one_chunk(c, pooled):
      slot = plan["first_chunk"][d] + c
      features = jnp.stack(_pool_between(out_TNK, plan["biases"][slot], start_K, stop_K))
      return lax.dynamic_update_index_in_dim(pooled, features, slot, axis=2)

    return lax.fori_loop(0, plan["num_chunks"][d], one_chunk, pooled)

  pooled = lax.fori_loop(0, plan["num_dilations"], one_dilation, pooled)
  return jnp.moveaxis(pooled.reshape(4, n, -1)[:, :, plan["feature_index"]], 0, 1).reshape(n, -1)


@jax.jit
def _planned_transform(plans, inputs, lengths):
  """MultiRocket features of the zero-padded series and difference (`inputs`, each (N, W, C)) of
  `lengths` frames: one program for every parameter set of a number of features and channels and
  every length in a bucket (`minirocket.bucket`), as `minirocket.batched`."""
  return jnp.concatenate([_planned_pools(plans[name], inputs[name], lengths[name], LEFT_LAG[name])
                          for name in REPRESENTATIONS], axis=1)


def batched(params, *, batch_size: int | None = None):
  """A numpy function x (N, T, C) -> features (N, F) equal to `transform`: one compiled program
  shared by every parameter set with the same number of features and channels and by every
  series length in a bucket (the dilations and biases are array arguments). Batches of
  `batch_size` rows (default `minirocket.rows_per_batch`: 32 rows at 150 frames, 8 at 1460; 100
  random series, alternating: at 1460 frames 8 or 16 rows 4.2-4.5 s, 4 or 32 rows 5.0-5.3 s; at
  150 frames 8 to 64 rows all 0.45-0.55 s)."""
  # One bias per scan: a chunk's unused slots cost as much as used ones, and most dilations have
  # 2 or 3 biases per kernel (100 random series, alternating: 4.0 s at 1460 frames against 5.8 s
  # with MiniRocket's chunks of 4, 0.48 against 0.63 s at 150; the same features to the bit).
  plans = {name: jax.tree.map(jnp.asarray, minirocket.plan({**params[name], **_series_combinations(params)},
                                                           chunk=1))
           for name in REPRESENTATIONS}

  def features(x_NTC) -> np.ndarray:
    _check(params, x_NTC)
    x_NTC = np.asarray(x_NTC, np.float32)
    n, steps, channels = x_NTC.shape
    width = minirocket.bucket(steps)
    inputs = {name: np.zeros((n, width, channels), np.float32) for name in REPRESENTATIONS}
    inputs["series"][:, :steps] = x_NTC
    inputs["difference"][:, :steps - 1] = np.diff(x_NTC, axis=1)
    lengths = {"series": np.int32(steps), "difference": np.int32(steps - 1)}
    return batching.over_rows(lambda batch: _planned_transform(plans, batch, lengths),
                              batch_size or minirocket.rows_per_batch(width), inputs)

  return features

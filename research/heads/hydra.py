"""Hydra (Dempster, Schmidt & Webb, 2023): competing random convolutional kernels, counted.

At each dilation 2**0, 2**1, ... up to (T - 1) / 8, and for the series and its first difference,
`groups` groups of `kernels` random kernels of length 9 (normal weights, mean removed, scaled to
unit absolute sum) slide over the input with zero 'same' padding. At every time step, within a
group, the kernel with the largest output adds that output to its "soft" count and the kernel
with the smallest output adds 1 to its "hard" count. Features are the counts, ordered dilation,
(series, difference), (max, min), group, kernel: aeon's `HydraTransformer` (n_kernels=8,
n_groups=64 split in halves between the series and its difference).

Multivariate input: each group reads the sum of its own random channels (clip(C // 2, 2, 8)
of them, drawn with replacement); univariate input is read as it is.

  params = fit(x_NTC, seed=0)                  # dict of numpy arrays
  features_NF = transform(params, x_NTC)       # pure JAX; params are static
  features_NF = batched(params)(x_NTC)         # numpy, one program for every seed

Random draws come from `np.random.default_rng(seed)`, not torch's generator: the same seed gives
other kernels than aeon's; given aeon's kernels and channels the features equal aeon's
(tests/test_multirocket_hydra.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from research.heads import batching

KERNEL_LENGTH = 9
PARAM_KEYS = ("dilations", "weights", "channel_indices", "num_channels")


def dilations_for(length: int) -> np.ndarray:
  """2**0 .. 2**floor(log2((length - 1) / 8)), as aeon."""
  return (2 ** np.arange(int(np.log2((length - 1) / (KERNEL_LENGTH - 1))) + 1)).astype(np.int32)


def fit(x_NTC, *, kernels: int = 8, groups: int = 64, max_channels: int = 8, seed: int = 0):
  """Random kernels and channel subsets for series like x (N, T, C); deterministic in seed."""
  x_NTC = np.asarray(x_NTC)
  if x_NTC.ndim != 3 or x_NTC.shape[1] < KERNEL_LENGTH:
    raise ValueError(f"hydra.fit: x must be (examples, frames >= {KERNEL_LENGTH}, channels); found {x_NTC.shape}")
  _, length, channels = x_NTC.shape
  dilations = dilations_for(length)
  halves = min(2, groups)  # the series and its difference
  per_half = groups // halves
  rng = np.random.default_rng(seed)
  weights = rng.standard_normal((len(dilations), halves, per_half, kernels, KERNEL_LENGTH)).astype(np.float32)
  weights -= weights.mean(-1, keepdims=True)
  weights /= np.abs(weights).sum(-1, keepdims=True)
  read = 1 if channels == 1 else int(np.clip(channels // 2, 2, max_channels))
  channel_indices = rng.integers(0, channels, (len(dilations), halves, per_half, read)).astype(np.int32)
  return {"dilations": dilations, "weights": weights, "channel_indices": channel_indices,
          "num_channels": np.int32(channels)}


def num_output_features(params) -> int:
  d, halves, per_half, kernels, _ = params["weights"].shape
  return d * halves * 2 * per_half * kernels


def _selection(params) -> np.ndarray:
  """(D, halves, groups per half, C) float32: how often each group reads each channel."""
  indices = np.asarray(params["channel_indices"])
  select = np.zeros(indices.shape[:-1] + (int(params["num_channels"]),), np.float32)
  lead = np.indices(indices.shape[:-1])
  np.add.at(select, tuple(i[..., None] for i in lead) + (indices,), 1.0)
  return select


def _counts(z_NCT, weights_GK9, select_GC, dilation: int):
  """Soft max counts and hard min counts (N, G, K) of one group of kernels over z (N, C, T)."""
  s_NGT = jnp.einsum("gc,nct->ngt", select_GC, z_NCT)
  steps, half = s_NGT.shape[-1], (KERNEL_LENGTH // 2) * dilation
  padded = jnp.pad(s_NGT, ((0, 0), (0, 0), (half, half)))
  taps_NGJT = jnp.stack([lax.slice_in_dim(padded, j * dilation, j * dilation + steps, axis=2)
                         for j in range(KERNEL_LENGTH)], axis=2)
  out_NGKT = jnp.einsum("ngjt,gkj->ngkt", taps_NGJT, weights_GK9)
  kernels = weights_GK9.shape[1]
  top_NGKT = jax.nn.one_hot(jnp.argmax(out_NGKT, axis=2), kernels, axis=2)  # the first on ties
  bottom_NGKT = jax.nn.one_hot(jnp.argmin(out_NGKT, axis=2), kernels, axis=2)
  soft = (top_NGKT * out_NGKT.max(2, keepdims=True)).sum(-1)
  return soft, bottom_NGKT.sum(-1)


def _check(params, x_NTC):
  missing = [k for k in PARAM_KEYS if k not in params]
  if missing:
    raise ValueError(f"hydra.transform: params lack {missing}; pass the dict `fit` returned")
  channels = int(params["num_channels"])
  if np.ndim(x_NTC) != 3 or np.shape(x_NTC)[2] != channels:
    raise ValueError(f"hydra.transform: x must be (examples, frames, {channels} channels); found {np.shape(x_NTC)}")


def _transform(dilations: tuple[int, ...], weights, select, x_NTC):
  """Hydra features of x (N, T, C) given the kernels and channel selections (arrays or tracers)."""
  x_NCT = jnp.swapaxes(jnp.asarray(x_NTC, jnp.float32), 1, 2)
  inputs = (x_NCT, jnp.diff(x_NCT, axis=-1))
  n = x_NCT.shape[0]
  features = []
  for d_index, dilation in enumerate(dilations):
    for half in range(weights.shape[1]):
      soft, hard = _counts(inputs[half], weights[d_index, half], select[d_index, half], dilation)
      features += [soft.reshape(n, -1), hard.reshape(n, -1)]
  return jnp.concatenate(features, axis=1)


# One program per (dilations, shapes): every seed's kernels are arguments, not constants.
_transform_jit = jax.jit(_transform, static_argnums=0)


def transform(params, x_NTC):
  """Hydra features (N, F) float32 of x (N, T, C)."""
  _check(params, x_NTC)
  return _transform(tuple(params["dilations"].tolist()), params["weights"], _selection(params), x_NTC)


def batched(params, *, batch_size: int = 32):
  """A numpy function x (N, T, C) -> features (N, F): one compiled program for batches of this
  shape, shared by every parameter set with the same dilations (the kernels are arguments)."""
  dilations = tuple(params["dilations"].tolist())
  weights, select = jnp.asarray(params["weights"], jnp.float32), jnp.asarray(_selection(params))

  def features(x_NTC):
    _check(params, x_NTC)
    return _transform_jit(dilations, weights, select, x_NTC)

  return batching.in_batches(features, batch_size=batch_size, compiled=True)

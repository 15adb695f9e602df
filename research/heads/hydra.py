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
from research.heads import minirocket  # its length buckets and padding

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


def transform(params, x_NTC):
  """Hydra features (N, F) float32 of x (N, T, C)."""
  _check(params, x_NTC)
  return _transform(tuple(params["dilations"].tolist()), params["weights"], _selection(params), x_NTC)


DILATION_SLOTS = 16  # dilations 2**0 .. 2**15: series up to 262,144 frames share one program's shapes


@jax.jit
def _planned_transform(dilations, weights, select, num_dilations, inputs_NCW, lengths):
  """`_transform` of the zero-padded series and difference (`inputs_NCW`, each (N, C, W)) of `lengths`
  frames, the first num_dilations (traced) of `dilations`, the kernels and channels padded to
  DILATION_SLOTS: one program for every length in a bucket. Features (N, DILATION_SLOTS x ...),
  zero past the last dilation (`batched` keeps the real ones)."""
  n, _, width = inputs_NCW[0].shape
  padded, (pad, _) = zip(*(minirocket.planned_padding(x, axis=2) for x in inputs_NCW))
  t_W = jnp.arange(width)
  slots, halves, groups, kernels, _ = weights.shape
  features = jnp.zeros((slots, halves, 2, n, groups * kernels), jnp.float32)

  def one_dilation(d, features):
    dilation = dilations[d]
    half_width = (KERNEL_LENGTH // 2) * dilation
    for half in range(halves):
      s_NGT = jnp.einsum("gc,nct->ngt", select[d, half], padded[half])
      taps_NGJT = jnp.stack([lax.dynamic_slice_in_dim(s_NGT, pad - half_width + j * dilation, width, axis=2)
                             for j in range(KERNEL_LENGTH)], axis=2)
      out_NGKT = jnp.einsum("ngjt,gkj->ngkt", taps_NGJT, weights[d, half])
      read_T = (t_W < lengths[half]).astype(jnp.float32)
      top_NGKT = jax.nn.one_hot(jnp.argmax(out_NGKT, axis=2), kernels, axis=2)
      bottom_NGKT = jax.nn.one_hot(jnp.argmin(out_NGKT, axis=2), kernels, axis=2)
      soft = (top_NGKT * out_NGKT.max(2, keepdims=True) * read_T).sum(-1)
      hard = (bottom_NGKT * read_T).sum(-1)
      features = features.at[d, half].set(jnp.stack([soft.reshape(n, -1), hard.reshape(n, -1)]))
    return features

  features = lax.fori_loop(0, num_dilations, one_dilation, features)
  return jnp.moveaxis(features, 3, 0).reshape(n, -1)


def rows_per_batch(width: int, convolutions: int) -> int:
  """Rows per batch at padded length `width` with `convolutions` (groups x kernels) outputs per
  frame: a power of two from 2 to 32 keeping one dilation's outputs near 4 MB of float32 (in the
  CPU's cache). Measured with 64 x 8 (the default), 100 series: 2 rows fastest at 1460 frames
  (1.3-1.4 s against 2.8-3.1 s with 32), 4 at 427, 8 at 150; a single row is slower (3.9 s at 1460)."""
  return int(np.clip(2 ** int(np.log2(max(2 ** 20 // (convolutions * width), 1))), 2, 32))


def batched(params, *, batch_size: int | None = None):
  """A numpy function x (N, T, C) -> features (N, F), `transform`'s up to float summation order:
  one compiled program for every parameter set of a number of groups, kernels and channels and
  every series length in a bucket (`minirocket.bucket`; the kernels are arguments). Batches of
  `batch_size` rows (default `rows_per_batch`)."""
  num_dilations = len(params["dilations"])
  slots = max(DILATION_SLOTS, num_dilations)
  pad = ((0, slots - num_dilations),) + ((0, 0),) * 4
  dilations = jnp.asarray(np.pad(np.asarray(params["dilations"], np.int32), pad[0], constant_values=1))
  weights = jnp.asarray(np.pad(np.asarray(params["weights"], np.float32), pad))
  select = jnp.asarray(np.pad(_selection(params), pad[:4]))
  keep = num_output_features(params)

  def features(x_NTC) -> np.ndarray:
    _check(params, x_NTC)
    x_NCT = np.asarray(x_NTC, np.float32).transpose(0, 2, 1)
    n, channels, steps = x_NCT.shape
    width = minirocket.bucket(steps)
    inputs = np.zeros((2, n, channels, width), np.float32)
    inputs[0, :, :, :steps], inputs[1, :, :, :steps - 1] = x_NCT, np.diff(x_NCT, axis=-1)
    lengths = np.array([steps, steps - 1], np.int32)
    compute = lambda *batch: _planned_transform(dilations, weights, select, np.int32(num_dilations), batch, lengths)
    rows = batch_size or rows_per_batch(width, int(np.prod(weights.shape[1:4])))
    return batching.over_rows(compute, rows, *inputs)[:, :keep]

  return features

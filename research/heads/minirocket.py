"""MiniRocket (Dempster, Schmidt & Webb, KDD 2021): a fixed convolutional transform to ~10k features.

The 84 kernels have length 9 and weights -1 everywhere except 2 at three of the nine taps (all
3-of-9 combinations). Each kernel is applied at a set of dilations spaced exponentially up to
(T - 1) / 8; each (dilation, kernel) pair gets `num_features_per_dilation[d]` biases, drawn as
quantiles (a golden-ratio low-discrepancy sequence) of that kernel's output on one randomly chosen
training example. A feature is the PPV, the proportion of positions where the output exceeds the
bias. Every other (dilation, kernel) pair reads only the positions the kernel covers without padding
("valid"); the others read all positions of the zero-padded ("same") output.

Multivariate input (the authors' multivariate variant, as aeon's `MiniRocket` implements it): each
(dilation, kernel) pair sums the kernel's output over its own random subset of 1..min(C, 9)
channels (subset sizes 2**U(0, log2(min(C, 9) + 1)), rounded down). Univariate input is the C = 1
case of the same rule.

  params = fit(x_NTC, mask_NT, num_features=10_000, seed=0)   # dict of numpy arrays
  features_NF = transform(params, x_NTC, mask_NT)              # pure JAX; params are static
  features_NF = batched(params)(x_NTC, mask_NT)                # numpy, one program for any params

Random draws (channel subsets, the example behind each bias) come from
`np.random.default_rng(seed)`, not aeon's generator: the same seed gives other parameters than
aeon's, and features equal aeon's given aeon's parameters (tests/heads/test_minirocket.py).

`params` hold everything `transform` needs as plain arrays (store them as .npz):
  dilations (D,) int32, num_features_per_dilation (D,) int32,
  num_channels_per_combination (84 D,) int32, channel_indices (sum of those,) int32,
  biases (F,) float32, bias_examples (84 D,) int32 (training index each bias came from),
  num_channels () int32.
Features are ordered dilation-major, then kernel, then bias (aeon's order).

Unequal lengths: `mask_NT` marks valid frames, a prefix of each row (padding at the end). A
series of length L is treated exactly as if it were given alone: frames past L read as zeros
(the "same" padding at the series end), PPV averages over positions t < L, and the "valid"
positions are 4d <= t < L - 4d. When a short series has no valid position at dilation d
(L <= 8d), that kernel falls back to all t < L (the authors' variable-length code pads every
kernel; we keep the alternation wherever it is defined, so equal-length input matches aeon).
Dilations are fitted to the longest training series, as the authors' variable-length version does.

`transform` uses only padding, slices, matrix products, max/min, sums and divisions (no sort,
gather or data-dependent shapes), so it converts to TFLite built-in ops through jax2tf.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from research.heads import batching

KERNEL_LENGTH = 9
NUM_KERNELS = 84
# Taps with weight 2 for each of the 84 kernels: all 3-of-9 combinations, in itertools order.
KERNEL_TAPS = np.array(list(itertools.combinations(range(KERNEL_LENGTH), 3)), np.int32)
PARAM_KEYS = ("dilations", "num_features_per_dilation", "num_channels_per_combination",
              "channel_indices", "biases", "bias_examples", "num_channels")


def kernel_weights() -> np.ndarray:
  """(9, 84) float32: column j is kernel j, -1 everywhere and 2 at its three taps."""
  w = -np.ones((KERNEL_LENGTH, NUM_KERNELS), np.float32)
  w[KERNEL_TAPS, np.arange(NUM_KERNELS)[:, None]] = 2.0
  return w


def fit_dilations(length: int, num_features: int, max_dilations_per_kernel: int):
  """Dilations (exponentially spaced up to (length - 1) / 8) and features per dilation."""
  features_per_kernel = num_features // NUM_KERNELS
  true_max = min(features_per_kernel, max_dilations_per_kernel)
  multiplier = features_per_kernel / true_max
  max_exponent = np.log2((length - 1) / (KERNEL_LENGTH - 1))
  dilations, counts = np.unique(
      np.logspace(0, max_exponent, true_max, base=2).astype(np.int32), return_counts=True)
  per_dilation = (counts * multiplier).astype(np.int32)
  remainder = features_per_kernel - per_dilation.sum()
  i = 0
  while remainder > 0:  # hand out what rounding down left, one per dilation from the smallest
    per_dilation[i] += 1
    remainder -= 1
    i = (i + 1) % len(per_dilation)
  return dilations.astype(np.int32), per_dilation.astype(np.int32)


def quantiles(n: int) -> np.ndarray:
  """The first n terms of the golden-ratio sequence (k * phi) mod 1, k = 1..n, float32."""
  phi = (np.sqrt(5) + 1) / 2
  return np.array([(k * phi) % 1 for k in range(1, n + 1)], np.float32)


def _lengths(x_NTC, mask_NT, where: str) -> np.ndarray:
  n, t = x_NTC.shape[:2]
  if mask_NT is None:
    return np.full(n, t, np.int64)
  mask_NT = np.asarray(mask_NT, bool)
  if mask_NT.shape != (n, t):
    raise ValueError(f"{where}: mask must be (examples, frames) = {(n, t)}; found {mask_NT.shape}")
  lengths = mask_NT.sum(1)
  if not np.array_equal(mask_NT, np.arange(t)[None, :] < lengths[:, None]):
    raise ValueError(f"{where}: mask must mark a prefix of each row (valid frames first, padding "
                     "at the end); move the padding of the rows that break this to their end")
  return lengths


def _selection(params, dilation_index: int) -> np.ndarray:
  """(C, 84) float32 0/1: which channels each kernel sums over at this dilation."""
  counts = params["num_channels_per_combination"]
  starts = np.concatenate([[0], np.cumsum(counts)])
  select = np.zeros((int(params["num_channels"]), NUM_KERNELS), np.float32)
  for k in range(NUM_KERNELS):
    combination = dilation_index * NUM_KERNELS + k
    select[params["channel_indices"][starts[combination]:starts[combination + 1]], k] = 1.0
  return select


def uses_valid_positions(dilation_index: int) -> np.ndarray:
  """(84,) bool: kernels that read only unpadded positions at this dilation (alternating)."""
  return (dilation_index % 2 + np.arange(NUM_KERNELS)) % 2 == 1


def fit(x_NTC, mask_NT=None, *, num_features: int = 10_000, max_dilations_per_kernel: int = 32,
        seed: int = 0, channel_combinations=None) -> dict[str, np.ndarray]:
  """Dilations, channel subsets and biases from training series x (N, T, C); deterministic in seed.

  `channel_combinations`: (num_channels_per_combination, channel_indices) of another fit to reuse
  (their first 84 x dilations combinations) instead of drawing new ones (MultiRocket's difference).
  """
  x_NTC = np.asarray(x_NTC, np.float32)
  if x_NTC.ndim != 3:
    raise ValueError(f"minirocket.fit: x must be (examples, frames, channels); found {x_NTC.shape}")
  channels = x_NTC.shape[2]
  lengths = _lengths(x_NTC, mask_NT, "minirocket.fit")
  if lengths.max() < KERNEL_LENGTH:
    raise ValueError(f"minirocket.fit: the longest training series has {lengths.max()} frames; "
                     f"MiniRocket needs at least {KERNEL_LENGTH} (zero-pad the series to 9)")
  if num_features < NUM_KERNELS:
    raise ValueError(f"minirocket.fit: num_features must be >= {NUM_KERNELS}; found {num_features}")
  x_NTC = np.where(np.arange(x_NTC.shape[1])[None, :, None] < lengths[:, None, None], x_NTC, 0)
  rng = np.random.default_rng(seed)
  dilations, per_dilation = fit_dilations(int(lengths.max()), num_features, max_dilations_per_kernel)
  combinations = NUM_KERNELS * len(dilations)
  most = min(channels, 9)
  if channel_combinations is None:
    channel_counts = (2 ** rng.uniform(0, np.log2(most + 1), combinations)).astype(np.int32)
    channel_indices = np.concatenate(
        [rng.choice(channels, c, replace=False) for c in channel_counts]).astype(np.int32)
  else:
    counts, indices = (np.asarray(a, np.int32) for a in channel_combinations)
    if len(counts) < combinations:
      raise ValueError(f"minirocket.fit: channel_combinations hold {len(counts)} combinations; "
                       f"{combinations} needed (84 x {len(dilations)} dilations)")
    channel_counts, channel_indices = counts[:combinations], indices[:counts[:combinations].sum()]
  candidates = np.flatnonzero(lengths > 0)  # an all-padding row has no output to take quantiles of
  bias_examples = candidates[rng.integers(len(candidates), size=combinations)].astype(np.int32)
  params = {"dilations": dilations, "num_features_per_dilation": per_dilation,
            "num_channels_per_combination": channel_counts, "channel_indices": channel_indices,
            "bias_examples": bias_examples, "num_channels": np.int32(channels)}
  levels = quantiles(NUM_KERNELS * int(per_dilation.sum()))
  weights_9K = kernel_weights()
  biases, start = [], 0
  for d_index, (dilation, count) in enumerate(zip(dilations, per_dilation)):
    examples = bias_examples[d_index * NUM_KERNELS:(d_index + 1) * NUM_KERNELS]
    # Kernel k sums its channels of its own example, then convolves (the kernel is shared by channels).
    s_KT = np.einsum("ktc,ck->kt", x_NTC[examples], _selection(params, d_index))
    out_KT = _conv_rows(s_KT, weights_9K.T, int(dilation))
    for k in range(NUM_KERNELS):
      biases.append(np.quantile(out_KT[k, :lengths[examples[k]]], levels[start:start + count]))
      start += count
  params["biases"] = np.concatenate(biases).astype(np.float32)
  return params


def _conv_rows(s_KT, w_K9, dilation):
  """Row k of s convolved (cross-correlation, zero 'same' padding) with kernel row k, float32."""
  steps = s_KT.shape[1]
  half = (KERNEL_LENGTH // 2) * dilation
  padded = np.pad(s_KT, ((0, 0), (half, half)))
  out = np.zeros_like(s_KT)
  for tap in range(KERNEL_LENGTH):
    out += w_K9[:, tap:tap + 1] * padded[:, tap * dilation:tap * dilation + steps]
  return out


def step(d):
  """1.0 where d > 0, else 0.0, for float32 d, as min(max(d, 0) * 2**126, 1).

  Exact: a nonzero difference of float32 values is at least 2**-126 in magnitude unless both are
  below 2**-125 (where the CPU flushes it to zero). Written with max/mul/min because XLA:CPU
  vectorises that (~4x faster here than `(d > 0).astype(float32)` reduced over time).
  """
  return jnp.minimum(jnp.maximum(d, 0.0) * np.float32(2.0 ** 126), 1.0)


def num_output_features(params) -> int:
  return NUM_KERNELS * int(np.sum(params["num_features_per_dilation"]))


def _prepare(params, x_NTC, mask_NT):
  """Checked input as (N, C, T) with padding zeroed, and each series' length (N, 1)."""
  missing = [k for k in PARAM_KEYS if k not in params]
  if missing:
    raise ValueError(f"minirocket.transform: params lack {missing}; pass the dict `fit` returned")
  x_NTC = jnp.asarray(x_NTC, jnp.float32)
  if x_NTC.ndim != 3 or x_NTC.shape[2] != int(params["num_channels"]):
    raise ValueError(f"minirocket.transform: x must be (examples, frames, {int(params['num_channels'])} "
                     f"channels) as in fit; found shape {x_NTC.shape}")
  n, steps, _ = x_NTC.shape
  if mask_NT is None:
    length_N1 = np.full((1, 1), steps)  # static: the positions read become constants
  else:
    mask_NT = jnp.asarray(mask_NT, bool)
    if mask_NT.shape != (n, steps):
      raise ValueError(f"minirocket.transform: mask must be (examples, frames) = {(n, steps)}; "
                       f"found {mask_NT.shape}")
    x_NTC = jnp.where(mask_NT[:, :, None], x_NTC, 0.0)
    length_N1 = mask_NT.sum(1, keepdims=True)
  return jnp.swapaxes(x_NTC, 1, 2), length_N1  # time last: outputs are (N, 84, T), reduced over T


def convolve(params, d_index: int, x_NCT, *, left_lag: int = 0):
  """The 84 kernels' outputs at one dilation (N, 84, T), each summed over its channels; zero
  'same' padding. `left_lag` moves the four taps left of the centre that many frames later
  (MultiRocket's reference transform of the first difference reads them one frame late)."""
  return convolve_selected(_selection(params, d_index), int(params["dilations"][d_index]), x_NCT,
                           left_lag=left_lag)


def convolve_selected(selection_CK, dilation: int, x_NCT, *, left_lag: int = 0):
  """`convolve` given the channels each kernel sums, (C, 84) 0/1 (an array or a tracer)."""
  steps = x_NCT.shape[2]
  half = (KERNEL_LENGTH // 2) * dilation
  # Dilated 'same' convolution as 9 shifted copies and one matrix product (faster on CPU than
  # XLA's dilated convolution); kernel k sums its channels: weights (9 C, 84), zero elsewhere.
  padded_NCT = jnp.pad(x_NCT, ((0, 0), (0, 0), (half, half)))
  starts = [tap * dilation + (left_lag if tap < KERNEL_LENGTH // 2 else 0) for tap in range(KERNEL_LENGTH)]
  taps_NFT = jnp.concatenate(  # lax slices: numpy-style indexing becomes a gather under a symbolic batch
      [lax.slice_in_dim(padded_NCT, start, start + steps, axis=2) for start in starts], axis=1)
  kernel_FK = (kernel_weights()[:, None, :] * selection_CK[None]).reshape(-1, NUM_KERNELS)
  return jnp.einsum("fk,nft->nkt", kernel_FK, taps_NFT)


def _outputs(params, d_index: int, x_NCT, length_N1):
  """The 84 kernels' outputs at one dilation, (N, 84, T), -inf at the positions PPV must not read."""
  xp = np if isinstance(length_N1, np.ndarray) else jnp
  steps = x_NCT.shape[2]
  half = (KERNEL_LENGTH // 2) * int(params["dilations"][d_index])
  out_NKT = convolve(params, d_index, x_NCT)
  t_T = np.arange(steps)
  every_NT = t_T[None, :] < length_N1
  inner_NT = (t_T[None, :] >= half) & (t_T[None, :] < length_N1 - half)
  inner_NT = xp.where(length_N1 > 2 * half, inner_NT, every_NT)  # too short: use every position
  read_NKT = xp.where(uses_valid_positions(d_index)[None, :, None],
                      inner_NT[:, None, :], every_NT[:, None, :])
  return jnp.where(read_NKT, out_NKT, -jnp.inf), xp.maximum(read_NKT.sum(-1), 1).astype(np.float32)


def transform(params, x_NTC, mask_NT=None):
  """PPV features (N, F) float32 of x (N, T, C); `params` from `fit` (numpy, static under jit).

  Dilations with equal feature counts are compared with their biases in one reduction: fewer,
  larger operations, and none of the equal-shaped copies XLA:CPU would share and materialise.
  """
  x_NCT, length_N1 = _prepare(params, x_NTC, mask_NT)
  n = x_NCT.shape[0]
  counts = params["num_features_per_dilation"].tolist()
  starts = np.concatenate([[0], np.cumsum(NUM_KERNELS * np.asarray(counts))])
  outputs = [_outputs(params, d, x_NCT, length_N1) for d in range(len(counts))]
  blocks = {}
  for count in sorted(set(counts)):
    group = [d for d, c in enumerate(counts) if c == count]
    out_NGT = jnp.concatenate([outputs[d][0] for d in group], axis=1)  # G = 84 x dilations
    reads_NG = jnp.concatenate([jnp.broadcast_to(outputs[d][1], (n, NUM_KERNELS)) for d in group], axis=1)
    bias_GB = np.concatenate([params["biases"][starts[d]:starts[d + 1]].reshape(NUM_KERNELS, count)
                              for d in group])
    hits_NGB = jnp.sum(step(out_NGT[:, :, None, :] - bias_GB[None, :, :, None]), axis=-1)
    ppv_NGB = hits_NGB / reads_NG[..., None]
    for i, d in enumerate(group):
      block = lax.slice_in_dim(ppv_NGB, i * NUM_KERNELS, (i + 1) * NUM_KERNELS, axis=1)
      blocks[d] = block.reshape(n, NUM_KERNELS * count)
  return jnp.concatenate([blocks[d] for d in range(len(counts))], axis=1)


# The compiled-once form: `batched` runs one program for every parameter set, every number of
# dilations and every series length up to a bucket (below), with the fitted parameters as array
# arguments. Each dilation's convolution is computed once and compared with its biases in chunks of
# BIAS_CHUNK per kernel (a dilation has 1 to ~120 biases per kernel; chunks keep the padding small).
BIAS_CHUNK = 4
DILATION_SLOTS = 32  # dilations are padded to a multiple of this (the default most per kernel)


def bucket(length: int) -> int:
  """The padded length series of `length` frames are computed at: rounded up to a multiple of
  2**(floor(log2(length)) - 3), so at most 12.5% longer and 8 buckets per octave."""
  unit = 2 ** max(0, int(np.log2(max(length, 1))) - 3)
  return -(-length // unit) * unit


def plan(params, chunk: int = BIAS_CHUNK) -> dict[str, np.ndarray]:
  """`params` as the arrays the compiled form reads, biases in chunks of `chunk` per kernel; their
  shapes depend only on the number of features, the number of channels, ceil(dilations /
  DILATION_SLOTS) and `chunk`."""
  missing = [k for k in PARAM_KEYS if k not in params]
  if missing:
    raise ValueError(f"minirocket.batched: params lack {missing}; pass the dict `fit` returned")
  dilations, counts = np.asarray(params["dilations"]), np.asarray(params["num_features_per_dilation"])
  num_dilations = len(dilations)
  slots = -(-num_dilations // DILATION_SLOTS) * DILATION_SLOTS
  chunks = -(-counts // chunk)
  chunk_slots = -(-int(counts.sum()) // chunk) + slots  # >= chunks.sum(), fixed by the features
  first_chunk = np.concatenate([[0], np.cumsum(chunks)[:-1]])
  biases_SBK = np.zeros((chunk_slots, chunk, NUM_KERNELS), np.float32)
  feature_index, read_index, start = [], [], 0
  for d, count in enumerate(counts.tolist()):
    block_KB = np.asarray(params["biases"][start:start + NUM_KERNELS * count]).reshape(NUM_KERNELS, count)
    start += NUM_KERNELS * count
    for b in range(count):
      biases_SBK[first_chunk[d] + b // chunk, b % chunk] = block_KB[:, b]
    k, b = np.divmod(np.arange(NUM_KERNELS * count), count)  # aeon's order: kernel, then bias
    feature_index.append(((first_chunk[d] + b // chunk) * chunk + b % chunk) * NUM_KERNELS + k)
    read_index.append(d * NUM_KERNELS + k)
  pad = slots - num_dilations
  channels = int(params["num_channels"])
  selection_DCK = np.stack([_selection(params, d) for d in range(num_dilations)]
                           + [np.zeros((channels, NUM_KERNELS), np.float32)] * pad)
  valid_DK = np.stack([uses_valid_positions(d) for d in range(slots)])
  return {"num_dilations": np.int32(num_dilations),
          "dilations": np.pad(dilations, (0, pad), constant_values=1).astype(np.int32),
          "first_chunk": np.pad(first_chunk, (0, pad)).astype(np.int32),
          "num_chunks": np.pad(chunks, (0, pad)).astype(np.int32),
          "selection": selection_DCK, "valid": valid_DK, "biases": biases_SBK,
          "feature_index": np.concatenate(feature_index).astype(np.int32),
          "read_index": np.concatenate(read_index).astype(np.int32)}


@jax.jit
def _planned_transform(plan_arrays, x_NWC, length_N):
  """PPV features (N, F) of x (N, W, C) zero past each series' length; W >= 8 x the largest
  dilation + 1. Equal to `transform` (the same products, sums and comparisons) on each series.

  Time-major within a row (N, W, K) and positions counted as int16 (int32 past 32,767 frames):
  XLA:CPU vectorises that count over the 84 kernels, ~1.8x faster than `step` summed over time
  as float32 (OSULeaf, ACSF1; benchmarks/results.md, "MiniRocket's comparisons").
  """
  n, width, channels = x_NWC.shape
  count = jnp.int16 if width < 2 ** 15 else jnp.int32
  padded_NTC, pad = planned_padding(x_NWC)
  t_W = jnp.arange(width)
  length_N1 = length_N[:, None]
  every_NW = t_W[None, :] < length_N1
  slots, chunk, kernels = plan_arrays["biases"].shape
  hits_NSBK = jnp.zeros((n, slots, chunk, kernels), count)
  reads_NDK = jnp.zeros((n,) + plan_arrays["valid"].shape, jnp.float32)

  def one_dilation(d, carry):
    hits_NSBK, reads_NDK = carry
    out_NWK, half = planned_outputs(plan_arrays, d, padded_NTC, pad, width)
    inner_NW = (t_W[None, :] >= half) & (t_W[None, :] < length_N1 - half)
    inner_NW = jnp.where(length_N1 > 2 * half, inner_NW, every_NW)  # too short: use every position
    read_NWK = jnp.where(plan_arrays["valid"][d][None, None, :], inner_NW[:, :, None], every_NW[:, :, None])
    out_NWK = jnp.where(read_NWK, out_NWK, -jnp.inf)
    reads_NDK = reads_NDK.at[:, d].set(jnp.maximum(read_NWK.sum(1), 1).astype(jnp.float32))

    def one_chunk(c, hits_NSBK):
      slot = plan_arrays["first_chunk"][d] + c
      bias_BK = plan_arrays["biases"][slot]
      hits_NBK = jnp.sum(out_NWK[:, None, :, :] > bias_BK[None, :, None, :], axis=2, dtype=count)
      return lax.dynamic_update_index_in_dim(hits_NSBK, hits_NBK, slot, axis=1)

    return lax.fori_loop(0, plan_arrays["num_chunks"][d], one_chunk, hits_NSBK), reads_NDK

  hits_NSBK, reads_NDK = lax.fori_loop(0, plan_arrays["num_dilations"], one_dilation, (hits_NSBK, reads_NDK))
  hits_NF = hits_NSBK.reshape(n, -1)[:, plan_arrays["feature_index"]].astype(jnp.float32)
  return hits_NF / reads_NDK.reshape(n, -1)[:, plan_arrays["read_index"]]


def planned_padding(x, axis: int = 1):
  """(x zero-padded on both sides of its time `axis`, the pad): wider than 4 x any dilation + 1, so
  every tap of `planned_outputs` (a left lag included) reads inside the padded array."""
  pad = x.shape[axis] // 2 + 1
  return jnp.pad(x, [(pad, pad) if a == axis else (0, 0) for a in range(x.ndim)]), pad


def planned_outputs(plan_arrays, d, padded_NTC, pad: int, width: int, left_lag: int = 0):
  """(the 84 kernels' outputs (N, W, 84) at dilation slot `d` (traced) of `plan_arrays`, the
  dilation's half reach 4 d): each kernel sums its channels of the 9 taps, one matrix product.
  `left_lag` delays the four taps left of the centre (MultiRocket's difference)."""
  dilation = plan_arrays["dilations"][d]
  half = (KERNEL_LENGTH // 2) * dilation
  starts = [pad - half + tap * dilation + (left_lag if tap < KERNEL_LENGTH // 2 else 0)
            for tap in range(KERNEL_LENGTH)]
  taps_NWF = jnp.concatenate([lax.dynamic_slice_in_dim(padded_NTC, start, width, axis=1) for start in starts],
                             axis=2)
  kernel_FK = (kernel_weights()[:, None, :] * plan_arrays["selection"][d][None]).reshape(-1, NUM_KERNELS)
  return taps_NWF @ kernel_FK, half


def rows_per_batch(width: int) -> int:
  """Rows per batch at padded length `width`: a power of two up to 32 keeping a dilation's
  outputs (rows x 84 x width float32) near 5 MB, so that each bias chunk's pass over them reads
  the CPU's cache, not memory (measured on ACSF1's 1460 frames: 8 rows ~1.4x faster than 32)."""
  return int(np.clip(2 ** int(np.log2(max(16_384 // width, 1))), 1, 32))


def batched(params, *, batch_size: int | None = None):
  """A numpy function (x (N, T, C), mask (N, T) | None) -> features (N, F), equal to `transform`.

  One compiled program serves every parameter set of the same number of features and channels
  and every length in a bucket (`bucket`): the parameters are array arguments, series are
  zero-padded to the bucket and the positions past each series' length are not read. Batches of
  `batch_size` rows (default `rows_per_batch`), the last padded with copies of a row.
  """
  arrays = plan(params)
  most = int(np.max(params["dilations"]))

  def features(x_NTC, mask_NT=None) -> np.ndarray:
    x_NTC = np.asarray(x_NTC, np.float32)
    channels = int(params["num_channels"])
    if x_NTC.ndim != 3 or x_NTC.shape[2] != channels:
      raise ValueError(f"minirocket.transform: x must be (examples, frames, {channels} channels) "
                       f"as in fit; found shape {x_NTC.shape}")
    lengths = _lengths(x_NTC, mask_NT, "minirocket.transform").astype(np.int32)
    n, steps, _ = x_NTC.shape
    width = bucket(max(steps, (KERNEL_LENGTH - 1) * most + 1))
    x_NWC = np.zeros((n, width, channels), np.float32)
    x_NWC[:, :steps] = np.where(np.arange(steps)[None, :, None] < lengths[:, None, None], x_NTC, 0.0)
    return batching.over_rows(functools.partial(_planned_transform, arrays), batch_size or rows_per_batch(width),
                              x_NWC, lengths)

  return features

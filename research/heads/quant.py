"""QUANT (Dempster, Schmidt & Webb, 2024): quantiles over a fixed set of dyadic intervals.

Each channel is read in four representations: the series, its first difference smoothed by a
moving average of 5 (edges replicated), its second difference, and the magnitude of its real
DFT. On a representation of length L, level n = 1, 2, 4, ... (fewer than `depth` levels, and at
most floor(log2 L) + 1) cuts [0, L) into n intervals at floor(i L / n); from level 2 on, when the
median interval is longer than one frame, the same intervals shifted right by ceil(L / n / 2)
are added (all but the last). An interval of w frames gives 1 + (w - 1) // divisor quantiles
at evenly spaced levels in [0, 1] (linear interpolation); when there are at least two, every
second one (levels 1, 3, ...) has the interval's mean subtracted. One frame gives its value; a
single quantile is the median. These are the rules of aeon's `QUANTTransformer` (the authors'
code), including the smoothed first difference and float32 (torch) arithmetic for the
positions; features are in aeon's order: channel, representation, interval, quantile.

  params = fit(x_NTC)                     # dict of numpy scalars: the fitted length, depth, ...
  features_NF = batched(params)(x_NTC)    # numpy, in batches
  features_NF = transform(params, x_NTC, xp=jax.numpy)   # the same as a JAX function

Nothing is random and nothing is learned but the length: the intervals are fixed by it.

Unequal lengths: QUANT's intervals are placed on one length, that of the (padded) training array;
shorter series are read zero-padded at the end (as the reference implementations are run on them),
and a series longer than that is refused. Features of a series "as if given alone" are not defined
with a fixed feature count (the intervals and the number of quantiles depend on the length).

Why NumPy by default: the work is sorting small windows, which NumPy does as fast as XLA, while
XLA compiles the ~24 sorts and gathers of one QUANT program in 10-15 s on this 2-core CPU (per
series shape) against 0.3-1 s to transform a whole aeon set in NumPy. The code is written over an
array module `xp`, so `xp=jax.numpy` gives the JAX function (tested equal); its sorts have no
TFLite builtin, so an export of QUANT would be C work either way.
"""

from __future__ import annotations

import numpy as np

PARAM_KEYS = ("length", "num_channels", "depth", "divisor")


def torch_linspace(start: float, end: float, steps: int) -> np.ndarray:
  """float32 values of torch.linspace(start, end, steps) (its two-sided formula), so interval
  bounds and quantile levels round as aeon's do."""
  if steps == 1:
    return np.array([start], np.float32)
  start, end = np.float32(start), np.float32(end)
  step = (end - start) / np.float32(steps - 1)
  i = np.arange(steps)
  front = start + step * i.astype(np.float32)
  back = end - step * (steps - 1 - i).astype(np.float32)
  return np.where(i < steps / 2, front, back).astype(np.float32)


def representation_lengths(length: int) -> tuple[int, ...]:
  """Lengths of the series, smoothed first difference, second difference, |rfft|."""
  return (length, length - 1, length - 2, length // 2 + 1)


def intervals(length: int, depth: int) -> list[np.ndarray]:
  """Per level, its intervals (I, 2) int [start, end) on a representation of `length` frames."""
  levels = []
  for n in 2 ** np.arange(min(depth, int(np.log2(length)) + 1)):
    bounds = torch_linspace(0, length, n + 1).astype(np.int64)
    level = np.stack([bounds[:-1], bounds[1:]], 1)
    widths = np.sort(level[:, 1] - level[:, 0])
    if n > 1 and widths[(n - 1) // 2] > 1:  # torch's median: the lower middle value
      shift = int(np.ceil(np.float32(length) / np.float32(n) / np.float32(2)))
      level = np.concatenate([level, level[:-1] + shift])
    levels.append(level)
  return levels


def quantile_plan(widths, divisor: int):
  """For intervals of these widths: per feature (interval, lower rank, upper rank, weight,
  subtract the mean?), the ranks into the interval's sorted values, as torch.quantile does."""
  rows = []
  for i, w in enumerate(int(w) for w in widths):
    if w == 1:
      rows.append((i, 0, 0, 0.0, False))
      continue
    count = 1 + (w - 1) // divisor
    levels = np.array([0.5], np.float32) if count == 1 else torch_linspace(0, 1, count)
    ranks = levels * np.float32(w - 1)  # float32, as torch
    for j, rank in enumerate(ranks):
      lower = int(rank)
      rows.append((i, lower, int(np.ceil(rank)), float(rank - np.float32(lower)), count > 1 and j % 2 == 1))
  interval, lower, upper, weight, centred = (np.array(c) for c in zip(*rows))
  return interval, lower, upper, weight.astype(np.float32), centred


def num_output_features(params) -> int:
  total = 0
  for length in representation_lengths(int(params["length"])):
    for level in intervals(length, int(params["depth"])):
      total += len(quantile_plan(level[:, 1] - level[:, 0], int(params["divisor"]))[0])
  return total * int(params["num_channels"])


def fit(x_NTC, *, depth: int = 6, divisor: int = 4) -> dict[str, np.ndarray]:
  """The parameters for series like x (N, T, C): their length, channels and the options."""
  x_NTC = np.asarray(x_NTC)
  if x_NTC.ndim != 3:
    raise ValueError(f"quant.fit: x must be (examples, frames, channels); found {x_NTC.shape}")
  if depth < 1 or divisor < 1:
    raise ValueError(f"quant.fit: depth and divisor must be >= 1; found {depth} and {divisor}")
  length = x_NTC.shape[1]
  if length < 3:
    raise ValueError(f"quant.fit: the series have {length} frames; QUANT needs at least 3 (its second "
                     "difference must have a frame)")
  return {"length": np.int32(length), "num_channels": np.int32(x_NTC.shape[2]),
          "depth": np.int32(depth), "divisor": np.int32(divisor)}


def representations(x_NCT, xp=np):
  """The four representations of x (N, C, T), each (N, C, its length); xp: numpy or jax.numpy."""
  diff = xp.diff(x_NCT, axis=-1)
  padded = xp.concatenate([diff[..., :1], diff[..., :1], diff, diff[..., -1:], diff[..., -1:]], -1)
  smoothed = sum(padded[..., i:i + diff.shape[-1]] for i in range(5)) / np.float32(5.0)
  spectrum = xp.abs(xp.fft.rfft(x_NCT, axis=-1)).astype(np.float32)
  return (x_NCT, smoothed, xp.diff(x_NCT, n=2, axis=-1), spectrum)


def _level_features(z_NCL, level, divisor: int, xp=np):
  """Quantile features (N, C, F) of one level's intervals: gathered into (N, C, I, W), the
  frames past each interval's end set to +inf so that sorting puts them last."""
  widths = level[:, 1] - level[:, 0]
  span = int(widths.max())
  offsets = np.arange(span)
  index_IW = np.minimum(level[:, :1] + offsets, z_NCL.shape[-1] - 1)
  valid_IW = offsets[None, :] < widths[:, None]
  block = z_NCL[..., index_IW]
  values = xp.sort(xp.where(valid_IW, block, np.float32(np.inf)), axis=-1)
  mean_NCI = xp.where(valid_IW, block, np.float32(0)).sum(-1) / widths.astype(np.float32)
  interval, lower, upper, weight, centred = quantile_plan(widths, divisor)
  flat = values.reshape(*values.shape[:2], -1)
  below, above = flat[..., interval * span + lower], flat[..., interval * span + upper]
  gap = above - below
  quantile = xp.where(weight < 0.5, below + weight * gap, above - gap * (1 - weight))  # torch.lerp
  return quantile - centred.astype(np.float32) * mean_NCI[..., interval]


def _check(params, x_NTC):
  missing = [k for k in PARAM_KEYS if k not in params]
  if missing:
    raise ValueError(f"quant.transform: params lack {missing}; pass the dict `fit` returned")
  length, channels = int(params["length"]), int(params["num_channels"])
  if x_NTC.ndim != 3 or x_NTC.shape[2] != channels or x_NTC.shape[1] > length:
    raise ValueError(f"quant.transform: x must be (examples, at most {length} frames, {channels} channels) "
                     f"as in fit; found shape {x_NTC.shape}")


def transform(params, x_NTC, xp=np):
  """QUANT features (N, F) float32 of x (N, T, C), T <= the fitted length (zero-padded to it).
  xp = jax.numpy gives the same features as a JAX function (for jit)."""
  x_NTC = xp.asarray(x_NTC, np.float32)
  _check(params, x_NTC)
  length, depth, divisor = int(params["length"]), int(params["depth"]), int(params["divisor"])
  x_NTC = xp.pad(x_NTC, ((0, 0), (0, length - x_NTC.shape[1]), (0, 0)))
  x_NCT = xp.swapaxes(x_NTC, 1, 2)
  blocks = []
  for z_NCL in representations(x_NCT, xp):
    for level in intervals(z_NCL.shape[-1], depth):
      blocks.append(_level_features(z_NCL, level, divisor, xp))
  features_NCF = xp.concatenate(blocks, -1)
  return features_NCF.reshape(features_NCF.shape[0], -1)  # channel-major, as aeon


def batched(params, *, batch_size: int = 64):
  """A numpy function x (N, T, C) -> features (N, F), `transform` in NumPy on batches (bounded memory)."""

  def features(x_NTC) -> np.ndarray:
    x_NTC = np.asarray(x_NTC, np.float32)
    _check(params, x_NTC)
    return np.concatenate([transform(params, x_NTC[start:start + batch_size])
                           for start in range(0, len(x_NTC), batch_size)])

  return features

"""Helpers for arrays of sequences: missing values, padding with a mask, label encoding,
standardisation (per feature from a training split, per window, per recording).

Shared by the loaders, the sEMG recordings reader and prediction inputs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from research.data.errors import DataError


def fill_missing(x_TF: np.ndarray, where: str = "sequence") -> tuple[np.ndarray, int, int]:
  """Handles NaN in one sequence: returns (filled (T', F), trailing frames cut, values filled).

  NaN is a missing value; +-Inf is not (it is a broken measurement) and raises DataError.
  Frames at the end that are missing in every feature are padding (how `.ts` files
  write shorter series) and are cut. Other missing values are interpolated linearly
  within their feature; at the edges the nearest value is repeated; a feature with
  no value at all becomes 0.
  """
  x_TF = np.asarray(x_TF, np.float32)
  infinite = np.isinf(x_TF)
  if infinite.any():
    frame, feature = np.argwhere(infinite)[0]
    raise DataError(f"{where}: {int(infinite.sum())} infinite values (the first at frame {frame}, feature "
                    f"{feature}); only NaN marks a missing value. Replace +-Inf with NaN (to interpolate) "
                    "or with the true value", "non_finite")
  missing = np.isnan(x_TF)
  if not missing.any():
    return x_TF, 0, 0
  frame_missing = missing.all(1)
  length = len(x_TF)
  while length > 0 and frame_missing[length - 1]:
    length -= 1
  cut = len(x_TF) - length
  x_TF, missing = x_TF[:length].copy(), missing[:length]
  filled = int(missing.sum())
  steps = np.arange(length)
  for f in np.nonzero(missing.any(0))[0]:
    good = ~missing[:, f]
    if good.any():
      x_TF[:, f] = np.interp(steps, steps[good], x_TF[good, f])
    else:
      x_TF[:, f] = 0.0
  return x_TF, cut, filled


def clean(series: list[np.ndarray], where: str) -> tuple[list[np.ndarray], dict]:
  """`fill_missing` for every case: returns (cases, {'trailing_missing_frames', 'interpolated_values'}).
  A case with no value at all is a DataError naming it."""
  out, cut, filled = [], 0, 0
  for i, x_TD in enumerate(series):
    x_TD, c, f = fill_missing(x_TD, f"{where} case {i}")
    if len(x_TD) == 0:
      raise DataError(f"{where}: case {i} has no values at all; remove it or fill in its values", "empty")
    out.append(x_TD)
    cut += c
    filled += f
  return out, {"trailing_missing_frames": cut, "interpolated_values": filled}


def pad(sequences: Sequence[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Right-pads (T_i, F) sequences with zeros: (x (N, T, F) float32, mask (N, T) bool)."""
  if not sequences:
    raise DataError("pad: no sequences to pad; the data hold no usable example", "empty")
  features = {s.shape[1] for s in sequences}
  if len(features) != 1:
    raise DataError(f"pad: sequences have different feature counts {sorted(features)}; every sequence "
                    "needs the same features per frame", "channel_mismatch")
  length = length or max(len(s) for s in sequences)
  x = np.zeros((len(sequences), length, features.pop()), np.float32)
  mask = np.zeros((len(sequences), length), bool)
  for i, s in enumerate(sequences):
    n = min(len(s), length)
    x[i, :n] = s[:n]
    mask[i, :n] = True
  return x, mask


def padded_splits(series, test_series, y_all, where: str = "data"):
  """Pads train (and optional test) sequences to one common length.

  `y_all` holds the train labels followed by the test labels. Returns
  (examples, test or None, length); each split has `x`, `y` and `mask`.
  Test sequences must have the training sequences' feature count.
  """
  if test_series:
    train_features = {s.shape[1] for s in series}
    test_features = {s.shape[1] for s in test_series}
    if test_features != train_features:
      raise DataError(f"{where}: the test split has {sorted(test_features)} features (channels) per frame, "
                      f"the training split {sorted(train_features)}; give both splits the same channels",
                      "channel_mismatch")
  length = max(len(s) for s in list(series) + list(test_series or []))
  x, mask = pad(series, length)
  examples = {"x": x, "y": y_all[:len(series)], "mask": mask}
  test = None
  if test_series is not None:
    x_test, mask_test = pad(test_series, length)
    test = {"x": x_test, "y": y_all[len(series):], "mask": mask_test}
  return examples, test, length


def encode_labels(raw, class_names: Sequence[str] | None = None, where: str = "labels"):
  """Maps labels (ints or strings) to 0..C-1; returns (y int32, class_names list[str]).

  With `class_names`, string labels must be among them and int labels index them.
  Without, the classes are the sorted distinct values (their string form as names).
  """
  raw = np.asarray(raw)
  if raw.ndim != 1:
    raise DataError(f"{where}: labels must be one per example (N,); found shape {raw.shape}", "bad_labels")
  if raw.dtype.kind not in "iufUS":
    raise DataError(f"{where}: labels must be integers or strings; found dtype {raw.dtype}", "bad_labels")
  if class_names is not None and len(class_names):
    class_names = [str(c) for c in class_names]
    repeated = sorted({c for c in class_names if class_names.count(c) > 1})
    if repeated:
      raise DataError(f"{where}: class names {repeated} are listed more than once in {class_names}; "
                      "list each class once", "bad_labels")
    if raw.dtype.kind in "iu":
      bad = raw[(raw < 0) | (raw >= len(class_names))]
      if bad.size:
        raise DataError(f"{where}: int labels must index class_names (0..{len(class_names) - 1}); "
                        f"found {sorted(set(bad.tolist()))[:5]}. Fix the labels or class_names", "bad_labels")
      return raw.astype(np.int32), class_names
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({str(v) for v in raw} - set(index))
    if unknown:
      raise DataError(f"{where}: labels {unknown[:5]} are not among the class names {class_names}; add them "
                      "to the class names or fix the labels", "unknown_label")
    return np.array([index[str(v)] for v in raw], np.int32), class_names
  if raw.dtype.kind == "f":
    if not (np.isfinite(raw).all() and np.all(raw == np.round(raw))):
      raise DataError(f"{where}: labels are non-integer (or NaN) floats; a classifier needs class labels: "
                      "save integers or strings", "bad_labels")
    raw = raw.astype(np.int64)
  values = np.unique(raw)
  lookup = {v: i for i, v in enumerate(values.tolist())}
  return (np.array([lookup[v] for v in raw.tolist()], np.int32),
          [str(v) for v in values.tolist()])


NORMALIZE = ("none", "center", "zscore")


def standardize_stats(x_NTF: np.ndarray, mask_NT: np.ndarray, mode: str = "zscore") -> dict:
  """Per-feature mean and std over the valid frames (std floored at 1e-6; all ones for 'center')."""
  valid = x_NTF[mask_NT]
  std = np.maximum(valid.std(0), 1e-6) if mode == "zscore" else np.ones(valid.shape[1])
  return {"mode": mode, "mean": valid.mean(0).astype(float).tolist(), "std": std.astype(float).tolist()}


def standardize(x_NTF: np.ndarray, mask_NT: np.ndarray | None, stats: dict) -> np.ndarray:
  """(x - mean) / std on valid frames; padding stays 0."""
  out = (x_NTF - np.asarray(stats["mean"], np.float32)) / np.asarray(stats["std"], np.float32)
  if mask_NT is not None:
    out = np.where(mask_NT[..., None], out, 0.0)
  return out.astype(np.float32)


WINDOW_NORMALIZE = ("none", "recording", "window")


def zscore(x, axis):
  """(x - mean) / std along `axis` (std floored at 1e-8), float32."""
  mean = x.mean(axis=axis, keepdims=True)
  std = x.std(axis=axis, keepdims=True)
  return ((x - mean) / np.maximum(std, 1e-8)).astype(np.float32)


def normalize_windows(x, mode: str, recording=None, where: str = "config.data.normalize"):
  """Z-scores (N, T, C) windows per window, per recording (ids in `recording`), or leaves `x` alone."""
  if mode not in WINDOW_NORMALIZE:
    raise ValueError(f"{where}: expected one of {WINDOW_NORMALIZE}; found {mode!r}")
  if mode == "window":
    return zscore(x, 1)
  if mode == "recording":
    if recording is None:
      raise ValueError(f"{where}='recording' needs recording ids (an npz 'recording' array); "
                       f"none found: use 'window' or add them")
    out = np.empty_like(x)
    for r in np.unique(recording):
      pick = recording == r
      out[pick] = zscore(x[pick].reshape(-1, x.shape[-1]), 0).reshape(x[pick].shape)
    return out
  return x

"""Helpers for labelled sequence datasets: padding with a mask, missing values,
label encoding, standardisation, and the stratified test/validation splits.

Shared by the keypoint-folder, `.npz` and UEA/UCR `.ts` readers.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from research.data import dataset as dataset_lib


def fill_missing(x_TF: np.ndarray) -> tuple[np.ndarray, int, int]:
  """Handles NaN in one sequence: returns (filled (T', F), trailing frames cut, values filled).

  Frames at the end that are missing in every feature are padding (how `.ts` files
  write shorter series) and are cut. Other missing values are interpolated linearly
  within their feature; at the edges the nearest value is repeated; a feature with
  no value at all becomes 0.
  """
  x_TF = np.asarray(x_TF, np.float32)
  missing = ~np.isfinite(x_TF)
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


def pad(sequences: Sequence[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Right-pads (T_i, F) sequences with zeros: (x (N, T, F) float32, mask (N, T) bool)."""
  if not sequences:
    raise ValueError("pad: no sequences")
  features = {s.shape[1] for s in sequences}
  if len(features) != 1:
    raise ValueError(f"pad: sequences have different feature counts {sorted(features)}")
  length = length or max(len(s) for s in sequences)
  x = np.zeros((len(sequences), length, features.pop()), np.float32)
  mask = np.zeros((len(sequences), length), bool)
  for i, s in enumerate(sequences):
    n = min(len(s), length)
    x[i, :n] = s[:n]
    mask[i, :n] = True
  return x, mask


def padded_splits(series, test_series, y_all):
  """Pads train (and optional test) sequences to one common length.

  `y_all` holds the train labels followed by the test labels. Returns
  (examples, test or None, length); each split has `x`, `y` and `mask`.
  """
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
    raise ValueError(f"{where}: labels must be one per example (N,); found shape {raw.shape}")
  if class_names is not None and len(class_names):
    class_names = [str(c) for c in class_names]
    if raw.dtype.kind in "iu":
      bad = raw[(raw < 0) | (raw >= len(class_names))]
      if bad.size:
        raise ValueError(f"{where}: int labels must index class_names (0..{len(class_names) - 1}); "
                         f"found {sorted(set(bad.tolist()))[:5]}")
      return raw.astype(np.int32), class_names
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({str(v) for v in raw} - set(index))
    if unknown:
      raise ValueError(f"{where}: labels {unknown[:5]} are not among the class names {class_names}")
    return np.array([index[str(v)] for v in raw], np.int32), class_names
  if raw.dtype.kind == "f":
    if not np.all(raw == np.round(raw)):
      raise ValueError(f"{where}: labels are non-integer floats; a classifier needs class labels")
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


def _check_stratifiable(y, fraction, what):
  counts = np.bincount(y)
  small = np.nonzero((counts > 0) & (counts < 2))[0]
  if small.size:
    raise ValueError(f"{what}: a stratified split needs at least 2 examples per class; classes "
                     f"{small.tolist()} have 1. Add data or set the fraction to 0.")
  needed = int(np.ceil(fraction * len(y)))
  if needed < np.count_nonzero(counts):
    raise ValueError(f"{what}: a {fraction:.0%} split of {len(y)} examples gives {needed} examples, "
                     f"fewer than the {np.count_nonzero(counts)} classes; raise the fraction or add data")


def classification_splits(examples: dict[str, np.ndarray], meta: dict[str, Any], *,
                          test: dict[str, np.ndarray] | None, test_fraction: float,
                          val_fraction: float, seed: int, normalize: str = "none"
                          ) -> dataset_lib.Dataset:
  """Stratified test split (unless `test` is given), then a stratified validation split.

  `test_fraction` is of all examples, `val_fraction` of those left for training, both
  drawn with scikit-learn's train_test_split(random_state=seed, stratify=y).
  normalize: 'none'; 'center' subtracts each feature's training-split mean; 'zscore'
  also divides by its std. The statistics go to meta['standardize'] for prediction.
  """
  if normalize not in NORMALIZE:
    raise ValueError(f"config.data.normalize={normalize!r}; valid: {NORMALIZE}")
  meta = dict(meta)
  if test is None:
    _check_stratifiable(examples["y"], test_fraction, "config.data.test_fraction")
    rest, test = dataset_lib.random_split(examples, test_fraction, seed, stratify=True)
    meta["test_split"] = f"stratified {test_fraction:g} of the data (seed {seed})"
  else:
    rest = examples
    meta["test_split"] = "predefined by the dataset"
  if val_fraction > 0:
    _check_stratifiable(rest["y"], val_fraction, "config.data.val_fraction")
    train, val = dataset_lib.random_split(rest, val_fraction, seed, stratify=True)
  else:
    raise ValueError("config.data.val_fraction must be > 0: early stopping and model selection "
                     "need a validation split")
  if normalize != "none":
    stats = standardize_stats(train["x"], train["mask"], normalize)
    for split in (train, val, test):
      split["x"] = standardize(split["x"], split["mask"], stats)
    meta["standardize"] = stats
  meta["split_sizes"] = {"train": len(train["y"]), "val": len(val["y"]), "test": len(test["y"])}
  meta["class_counts"] = {name: np.bincount(s["y"], minlength=len(meta["class_names"])).tolist()
                          for name, s in (("train", train), ("val", val), ("test", test))}
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)

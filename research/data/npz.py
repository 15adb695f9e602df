"""Labelled sequences from one `.npz` file.

Keys: `x` (N, T, F) or (N, T) float; `y` (N,) ints or strings; optional `class_names`;
optional `mask` (N, T) bool; optional predefined test split `x_test`, `y_test`
(`mask_test`). NaN values are missing: trailing all-NaN frames become padding, others
are interpolated (as for `.ts` files; meta['missing_values'] counts them and the report
says so); +-Inf is an error.
"""

from __future__ import annotations

import pathlib

import numpy as np

from research.data import dataset as dataset_lib
from research.data import sequences as seq_lib
from research.data import ts_format
from research.data.errors import DataError, DataNotFoundError, read_npz


def _sequences(x, mask, where):
  x = np.asarray(x)
  if x.dtype.kind not in "fiu":
    raise DataError(f"{where}: x must be numeric; found dtype {x.dtype}. Save float arrays "
                    "(NaN for missing values)", "wrong_dtype")
  if x.ndim == 2:
    x = x[:, :, None]
  if x.ndim != 3:
    raise DataError(f"{where}: x must be (N, T, F) or (N, T); found shape {x.shape}", "wrong_shape")
  x = x.astype(np.float32)
  if mask is not None:
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biu" or mask.shape != x.shape[:2]:
      raise DataError(f"{where}: mask must be (N, T) = {x.shape[:2]} of bools; found {mask.shape} "
                      f"{mask.dtype}", "wrong_shape")
    mask = mask.astype(bool)
    return [x[i][mask[i]] for i in range(len(x))]
  return list(x)


def _labels(arrays, key, count, path) -> np.ndarray:
  y = np.asarray(arrays[key])
  if y.ndim != 1 or len(y) != count:
    raise DataError(f"{path}: {key} must hold one label per example, shape ({count},); found "
                    f"{y.shape}", "length_mismatch")
  return y


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """Labelled sequences of one `.npz`, split with `config.data.split_seed`."""
  path = pathlib.Path(cfg.get("path") or "")
  if not path.is_file():
    raise DataNotFoundError(f"config.data.path={str(path)!r} is not a file; expected an .npz with "
                            f"x (N, T, F) and y (N,)")
  arrays = read_npz(path, "save with np.savez(path, x=x_NTF, y=labels_N) and plain numeric or string arrays")
  for key in ("x", "y"):
    if key not in arrays:
      raise DataError(f"{path}: missing key {key!r}; found {sorted(arrays)}. Save with "
                      f"np.savez(path, x=x_NTF, y=labels_N)", f"missing_{key}")
  if ("x_test" in arrays) != ("y_test" in arrays):
    raise DataError(f"{path}: give both x_test and y_test, or neither; found {sorted(arrays)}",
                    "missing_test")
  series = _sequences(arrays["x"], arrays.get("mask"), f"{path}[x]")
  if not series:
    raise DataError(f"{path}: x holds no example; save at least one sequence per class", "empty")
  y = _labels(arrays, "y", len(series), path)
  series, missing = ts_format.clean(series, f"{path}[x]")
  test_series, test_raw = None, None
  if "x_test" in arrays:
    test_series = _sequences(arrays["x_test"], arrays.get("mask_test"), f"{path}[x_test]")
    test_raw = _labels(arrays, "y_test", len(test_series), path)
    if not test_series:
      raise DataError(f"{path}: x_test holds no example; drop x_test/y_test or add test sequences", "empty")
    test_series, test_missing = ts_format.clean(test_series, f"{path}[x_test]")
    missing = {k: missing[k] + test_missing[k] for k in missing}
  names = None
  if "class_names" in arrays:
    names = np.asarray(arrays["class_names"])
    if names.ndim != 1 or names.dtype.kind not in "USiu":
      raise DataError(f"{path}: class_names must be a 1-D array of names; found shape {names.shape}, "
                      f"dtype {names.dtype}", "bad_labels")
    names = [str(n) for n in names.tolist()]
  if test_raw is not None and (y.dtype.kind in "US") != (test_raw.dtype.kind in "US"):
    raise DataError(f"{path}: y holds {y.dtype} labels and y_test {test_raw.dtype}; give both as "
                    "strings or both as integers", "bad_labels")
  raw = y if test_raw is None else np.concatenate([y, test_raw])
  y_all, class_names = seq_lib.encode_labels(raw, names, f"{path}[y]")
  examples, test, length = seq_lib.padded_splits(series, test_series, y_all, str(path))
  meta = {"source": str(path), "class_names": class_names,
          "feature_layout": {"format": "array", "num_features": int(examples["x"].shape[2])},
          "num_features": int(examples["x"].shape[2]), "max_length": int(length),
          "missing_values": missing, "skipped": []}
  return seq_lib.classification_splits(
      examples, meta, test=test, test_fraction=cfg.get("test_fraction", 0.1),
      val_fraction=cfg.get("val_fraction", 0.15), seed=dataset_lib.split_seed(cfg, seed),
      normalize=cfg.get("normalize", "none"), where=str(path))

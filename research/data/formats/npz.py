"""`.npz` files: reading any of them safely, and the labelled-sequence layout.

The labelled-sequence layout: `x` (N, T, F) or (N, T) float; `y` (N,) ints or strings;
optional `class_names`; optional `mask` (N, T) bool; optional predefined test split
`x_test`, `y_test` (`mask_test`). NaN values are missing (the loader cuts trailing all-NaN
frames and interpolates the rest); +-Inf is an error.
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

from research.data.errors import DataError, DataNotFoundError

HOW_TO_SAVE = "save with np.savez(path, x=x_NTF, y=labels_N) and plain numeric or string arrays"


def read_npz(path, how_to_save: str) -> dict:
  """Every array of the `.npz` at `path` (no pickles); an unreadable file is a DataError that ends
  with `how_to_save` (e.g. "save with numpy.savez(path, x=..., y=...)")."""
  try:
    with np.load(path, allow_pickle=False) as stored:
      return {key: stored[key] for key in stored.files}
  except Exception as error:  # noqa: BLE001 - any unreadable file gets the same message
    raise DataError(f"{path}: cannot read as .npz ({error}); {how_to_save}", "unreadable") from error


@dataclasses.dataclass
class Sequences:
  """What a labelled-sequence `.npz` holds: (T_i, F) float32 series with NaN for missing values."""
  series: list[np.ndarray]
  labels: np.ndarray  # (N,) ints or strings
  test_series: list[np.ndarray] | None
  test_labels: np.ndarray | None
  class_names: list[str] | None


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


def read_sequences(path) -> Sequences:
  """Reads and checks a labelled-sequence `.npz` (see the module docstring)."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise DataNotFoundError(f"config.data.path={str(path)!r} is not a file; expected an .npz with "
                            f"x (N, T, F) and y (N,)")
  arrays = read_npz(path, HOW_TO_SAVE)
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
  test_series, test_labels = None, None
  if "x_test" in arrays:
    test_series = _sequences(arrays["x_test"], arrays.get("mask_test"), f"{path}[x_test]")
    test_labels = _labels(arrays, "y_test", len(test_series), path)
    if not test_series:
      raise DataError(f"{path}: x_test holds no example; drop x_test/y_test or add test sequences", "empty")
  names = None
  if "class_names" in arrays:
    names = np.asarray(arrays["class_names"])
    if names.ndim != 1 or names.dtype.kind not in "USiu":
      raise DataError(f"{path}: class_names must be a 1-D array of names; found shape {names.shape}, "
                      f"dtype {names.dtype}", "bad_labels")
    names = [str(n) for n in names.tolist()]
  if test_labels is not None and (y.dtype.kind in "US") != (test_labels.dtype.kind in "US"):
    raise DataError(f"{path}: y holds {y.dtype} labels and y_test {test_labels.dtype}; give both as "
                    "strings or both as integers", "bad_labels")
  return Sequences(series, y, test_series, test_labels, names)


def write_sequences(path, x, y) -> pathlib.Path:
  """Writes x (N, T, F) (NaN-padded shorter sequences) and labels y (N,) as a labelled-sequence `.npz`."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  np.savez(path, x=x, y=y)
  return path

"""Labelled sequences from one `.npz` file.

Keys: `x` (N, T, F) or (N, T) float; `y` (N,) ints or strings; optional `class_names`;
optional `mask` (N, T) bool; optional predefined test split `x_test`, `y_test`
(`mask_test`). NaN values are missing: trailing all-NaN frames become padding, others
are interpolated (as for `.ts` files).
"""

from __future__ import annotations

import pathlib

import numpy as np

from research.data import dataset as dataset_lib
from research.data import sequences as seq_lib
from research.data import ts_format


def _sequences(x, mask, where):
  x = np.asarray(x)
  if x.dtype.kind not in "fiu":
    raise ValueError(f"{where}: x must be numeric; found dtype {x.dtype}")
  if x.ndim == 2:
    x = x[:, :, None]
  if x.ndim != 3:
    raise ValueError(f"{where}: x must be (N, T, F) or (N, T); found shape {x.shape}")
  x = x.astype(np.float32)
  if mask is not None:
    mask = np.asarray(mask, bool)
    if mask.shape != x.shape[:2]:
      raise ValueError(f"{where}: mask must be (N, T) = {x.shape[:2]}; found {mask.shape}")
    return [x[i][mask[i]] for i in range(len(x))]
  return list(x)


def load(cfg, seed: int) -> dataset_lib.Dataset:
  del seed  # Splits use config.data.split_seed.
  path = pathlib.Path(cfg.get("path") or "")
  if not path.is_file():
    raise FileNotFoundError(f"config.data.path={str(path)!r} is not a file; expected an .npz with "
                            f"x (N, T, F) and y (N,)")
  with np.load(path, allow_pickle=False) as f:
    arrays = {k: f[k] for k in f.files}
  for key in ("x", "y"):
    if key not in arrays:
      raise ValueError(f"{path}: missing key {key!r}; found {sorted(arrays)}. Save with "
                       f"np.savez(path, x=x_NTF, y=labels_N)")
  if ("x_test" in arrays) != ("y_test" in arrays):
    raise ValueError(f"{path}: give both x_test and y_test, or neither; found {sorted(arrays)}")
  series = _sequences(arrays["x"], arrays.get("mask"), f"{path}[x]")
  if len(series) != len(arrays["y"]):
    raise ValueError(f"{path}: x has {len(series)} examples, y has {len(arrays['y'])}")
  series, missing = ts_format.clean(series, f"{path}[x]")
  test_series, test_raw = None, None
  if "x_test" in arrays:
    test_series = _sequences(arrays["x_test"], arrays.get("mask_test"), f"{path}[x_test]")
    if len(test_series) != len(arrays["y_test"]):
      raise ValueError(f"{path}: x_test has {len(test_series)} examples, y_test has {len(arrays['y_test'])}")
    test_series, test_missing = ts_format.clean(test_series, f"{path}[x_test]")
    missing = {k: missing[k] + test_missing[k] for k in missing}
    test_raw = arrays["y_test"]
  names = arrays.get("class_names")
  names = None if names is None else [str(n) for n in names.tolist()]
  raw = arrays["y"] if test_raw is None else np.concatenate([arrays["y"], test_raw])
  y_all, class_names = seq_lib.encode_labels(raw, names, f"{path}[y]")
  examples, test, length = seq_lib.padded_splits(series, test_series, y_all)
  meta = {"source": str(path), "class_names": class_names,
          "feature_layout": {"format": "array", "num_features": int(examples["x"].shape[2])},
          "num_features": int(examples["x"].shape[2]), "max_length": int(length),
          "missing_values": missing, "skipped": {}, "skipped_total": 0}
  return seq_lib.classification_splits(
      examples, meta, test=test, test_fraction=cfg.get("test_fraction", 0.1),
      val_fraction=cfg.get("val_fraction", 0.15), seed=cfg.get("split_seed", 42),
      normalize=cfg.get("normalize", "none"))


def generate(out_dir, classes: int = 4, examples: int = 120, frames: int = 40, features: int = 6,
             seed: int = 0, name: str = "sequences.npz") -> pathlib.Path:
  """Writes a learnable `.npz` (x (N, T, F) with NaN-padded shorter sequences, y strings).

  Class c drifts along its own random direction in feature space with a class-specific
  oscillation; every sequence has its own length, offset, speed and noise.
  """
  rng = np.random.default_rng(seed)
  names = np.array([f"class_{c}" for c in range(classes)])
  direction = rng.normal(size=(classes, features))
  freq = rng.uniform(0.5, 3.0, classes)
  x = np.full((examples, frames, features), np.nan, np.float32)
  y = names[np.arange(examples) % classes]
  for i in range(examples):
    c = i % classes
    length = int(rng.integers(frames // 2, frames + 1))
    t = np.linspace(0, 1, length)[:, None] * rng.uniform(0.8, 1.2)
    x[i, :length] = (t * direction[c] + 0.5 * np.sin(2 * np.pi * freq[c] * t) + rng.normal(0, 0.5, features)
                     + rng.normal(0, 0.2, (length, features)))
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  np.savez(out / name, x=x, y=y)
  return out / name

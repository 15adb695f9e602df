"""The in-memory `Dataset` every loader returns, its fingerprint, and taking examples from a split."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

Split = dict[str, np.ndarray]
SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class Dataset:
  """Train/val/test splits, each a dict of equally long arrays, plus `meta`.

  Every split holds at least `x` (float32, examples first) and `y` (int labels or
  float targets). Sequences padded to a common length carry `mask` (N, T) bool.
  `meta` is JSON-able: class_names, feature_layout, sampling_rate, source, skipped...
  """
  train: Split
  val: Split
  test: Split
  meta: dict[str, Any] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    for name in SPLITS:
      split = getattr(self, name)
      lengths = {key: len(value) for key, value in split.items()}
      if len(set(lengths.values())) > 1:
        raise ValueError(f"Dataset split {name!r} has arrays of unequal length: {lengths}")
      if "x" not in split or "y" not in split:
        raise ValueError(f"Dataset split {name!r} needs keys 'x' and 'y'; found {sorted(split)}")

  def split(self, name: str) -> Split:
    if name not in SPLITS:
      raise ValueError(f"Unknown split {name!r}; choose one of {SPLITS}")
    return getattr(self, name)

  def sizes(self) -> dict[str, int]:
    return {name: len(self.split(name)["y"]) for name in SPLITS}

  def fingerprint(self) -> str:
    """SHA-256 (hex) of every split's arrays: split and key names, dtypes, shapes and bytes,
    splits in SPLITS order and keys sorted. Equal data give equal fingerprints on any load;
    one changed value changes it. `meta` is left out (it holds paths and descriptions)."""
    digest = hashlib.sha256()
    for name in SPLITS:
      split = self.split(name)
      for key in sorted(split):
        array = np.ascontiguousarray(split[key])
        if array.dtype.hasobject:
          raise TypeError(f"Dataset.fingerprint: split {name!r} key {key!r} holds Python objects "
                          f"(dtype {array.dtype}); splits must hold numeric or string arrays")
        digest.update(f"{name}/{key}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def take(split: Split, index: np.ndarray) -> Split:
  """The examples of `split` at `index`, every key alike."""
  return {key: value[index] for key, value in split.items()}


def concatenate(*splits: Split) -> Split:
  return {key: np.concatenate([s[key] for s in splits]) for key in splits[0]}

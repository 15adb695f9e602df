"""The in-memory `Dataset` every loader returns, and the splits that make one."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any

import numpy as np
from sklearn import model_selection

from research.data.errors import DataError

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


def random_split(split: Split, fraction: float, seed: int,
                 stratify: bool = False) -> tuple[Split, Split]:
  """Splits off `fraction` of the examples (stratified by `y` when asked).

  Returns (rest, held_out). Uses scikit-learn's train_test_split so that the
  stratified split matches what researchers get from the same call elsewhere.
  """
  index = np.arange(len(split["y"]))
  rest, held = model_selection.train_test_split(
      index, test_size=fraction, random_state=seed,
      stratify=split["y"] if stratify else None)
  return take(split, np.sort(rest)), take(split, np.sort(held))


def can_stratify(y, fraction: float) -> bool:
  """Whether scikit-learn can split off `fraction` stratified by `y`: every class twice, and both
  parts at least as large as the number of classes."""
  n = len(y)
  held = math.ceil(fraction * n)
  counts = np.bincount(np.asarray(y).astype(np.int64)) if n else np.zeros(0, np.int64)
  present = counts[counts > 0]
  return bool(len(present) > 1 and present.min() >= 2 and min(held, n - held) >= len(present))


def stratified_if_possible(split: Split, fraction: float, seed: int, where: str = "data",
                           what: str = "held-out") -> tuple[Split, Split]:
  """`random_split`, stratified by `y` whenever `can_stratify`; DataError when a part would be empty."""
  n = len(split["y"])
  held = math.ceil(fraction * n)
  if not 0 < fraction < 1 or held < 1 or n - held < 1:
    raise DataError(f"{where}: {n} examples are too few for a {fraction:.0%} {what} split (both parts need "
                    "an example); add data or change the fraction", "too_few_examples")
  return random_split(split, fraction, seed, stratify=can_stratify(split["y"], fraction))


def split_seed(data_config, seed: int) -> int:
  """The seed that splits the data: `data_config.split_seed` when the config has one, else `seed`.

  Splits have their own seed so that changing the model's seed never moves examples between
  train, validation and test.
  """
  value = data_config.get("split_seed", None) if hasattr(data_config, "get") else None
  if value is None:
    return int(seed)
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise ValueError(f"config.data.split_seed must be an integer; found {value!r}")
  return int(value)

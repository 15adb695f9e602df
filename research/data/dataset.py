"""The in-memory `Dataset` every loader returns, and the splits that make one."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from sklearn import model_selection

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

"""Every way the loaders split data: a seed of its own, random and stratified splits, the
classification test/validation splits, whole recordings, source/target domains.

(Cross-validation folds over a loaded dataset are made in research.studies.cv.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import model_selection

from research.data import dataset as dataset_lib
from research.data import sequences as seq_lib
from research.data.dataset import Split, take
from research.data.errors import DataError


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


def _check_stratifiable(y, fraction, what, class_names, where):
  counts = np.bincount(y)
  small = np.nonzero((counts > 0) & (counts < 2))[0]
  if small.size:
    raise DataError(f"{where}: a stratified split ({what}) needs at least 2 examples per class; classes "
                    f"{[class_names[c] for c in small.tolist()]} have 1. Add data for them",
                    "too_few_examples")
  needed = int(np.ceil(fraction * len(y)))
  if needed < np.count_nonzero(counts):
    raise DataError(f"{where}: a {fraction:.0%} split ({what}) of {len(y)} examples gives {needed} examples, "
                    f"fewer than the {np.count_nonzero(counts)} classes; raise the fraction or add data",
                    "too_few_examples")


def classification_splits(examples: dict[str, np.ndarray], meta: dict[str, Any], *,
                          test: dict[str, np.ndarray] | None, test_fraction: float,
                          val_fraction: float, seed: int, normalize: str = "none", where: str = "data"
                          ) -> dataset_lib.Dataset:
  """Stratified test split (unless `test` is given), then a stratified validation split.

  `test_fraction` is of all examples, `val_fraction` of those left for training, both
  drawn with scikit-learn's train_test_split(random_state=seed, stratify=y).
  normalize: 'none'; 'center' subtracts each feature's training-split mean; 'zscore'
  also divides by its std. The statistics go to meta['standardize'] for prediction.
  DataError (naming `where`) when the examples hold fewer than two classes or a class of
  the given test split has no example to train on.
  """
  if normalize not in seq_lib.NORMALIZE:
    raise ValueError(f"config.data.normalize={normalize!r}; valid: {seq_lib.NORMALIZE}")
  class_names = list(meta["class_names"])
  present = sorted(set(np.asarray(examples["y"]).tolist()))
  if len(present) < 2:
    found = class_names[present[0]] if present else "none"
    raise DataError(f"{where}: the training examples hold {len(present)} class ({found!r}); a classifier "
                    "needs examples of at least two classes", "single_class")
  meta = dict(meta)
  if test is None:
    _check_stratifiable(examples["y"], test_fraction, "config.data.test_fraction", class_names, where)
    rest, test = random_split(examples, test_fraction, seed, stratify=True)
    meta["test_split"] = f"stratified {test_fraction:g} of the data (seed {seed})"
  else:
    only_test = sorted(set(np.asarray(test["y"]).tolist()) - set(present))
    if only_test:
      raise DataError(f"{where}: labels {[class_names[c] for c in only_test]} appear only in the test split, "
                      "so no example teaches them; add training examples or drop those test cases",
                      "class_only_in_test")
    rest = examples
    meta["test_split"] = "predefined by the dataset"
  if val_fraction > 0:
    _check_stratifiable(rest["y"], val_fraction, "config.data.val_fraction", class_names, where)
    train, val = random_split(rest, val_fraction, seed, stratify=True)
  else:  # No validation split (config.train.validation none or small decides what that means).
    train, val = rest, {k: v[:0] for k, v in rest.items()}
  if normalize != "none":
    stats = seq_lib.standardize_stats(train["x"], train["mask"], normalize)
    for split in (train, val, test):
      split["x"] = seq_lib.standardize(split["x"], split["mask"], stats)
    meta["standardize"] = stats
  meta["split_sizes"] = {"train": len(train["y"]), "val": len(val["y"]), "test": len(test["y"])}
  meta["class_counts"] = {name: np.bincount(s["y"], minlength=len(meta["class_names"])).tolist()
                          for name, s in (("train", train), ("val", val), ("test", test))}
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)


def by_recording(names: list[str], val_fraction: float, test_fraction: float,
                 seed: int) -> dict[str, list[str]]:
  """Assigns whole recordings to train/val/test (at least one each), shuffled by `seed`."""
  if len(names) < 3:
    raise DataError(f"Workout data needs at least 3 recordings (train, val, test); found {len(names)}. "
                    "Record or generate more sessions (launch/make_data.py workout --sessions N)",
                    "too_few_recordings")
  order = np.random.default_rng(seed).permutation(sorted(names))
  n = len(order)
  n_test = min(max(1, round(test_fraction * n)), n - 2)
  n_val = min(max(1, round(val_fraction * n)), n - 1 - n_test)
  return {"test": sorted(order[:n_test].tolist()), "val": sorted(order[n_test:n_test + n_val].tolist()),
          "train": sorted(order[n_test + n_val:].tolist())}


def by_domain(pool: Split, domain_names: list[str], source: str, target: str, val_fraction: float,
              seed: int, where: str = "data") -> tuple[Split, Split, Split]:
  """Transfer: (train, val) stratified from the `source` domain's examples, test = the `target` domain's."""
  for name in (source, target):
    if name not in domain_names:
      raise ValueError(f"config.data: domain {name!r} not in the data's domains {domain_names}; "
                       f"set data.source_domain/target_domain, or target_domain='' for no transfer split")
  source_pool = dataset_lib.take(pool, pool["domain"] == domain_names.index(source))
  test = dataset_lib.take(pool, pool["domain"] == domain_names.index(target))
  train, val = stratified_if_possible(source_pool, val_fraction, seed, where, "validation")
  return train, val, test

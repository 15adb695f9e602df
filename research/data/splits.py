"""Every split the project makes: a seed of its own, random and stratified splits, the
classification test/validation splits, whole recordings, source/target domains, and the
cross-validation folds over a loaded dataset (`cv_pool`, `make_folds`; research.studies.cv).
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


# group_by "auto": windows cut from one recording overlap, so a recording never straddles a fold.
AUTO_GROUP_KEYS = ("recording",)


def _labelled(split: dict) -> dict:
  """The examples with a label (held-out files to predict carry y = -1)."""
  y = np.asarray(split["y"])
  return split if y.dtype.kind not in "iu" else take(split, np.flatnonzero(y >= 0))


def cv_pool(dataset: dataset_lib.Dataset, group_by: str = "auto") -> dict:
  """The examples cross-validation draws its folds from, with a `group` id unique across splits
  (`group_by`: a key of the data such as `subject`, "" for none, "auto" for `recording` when present)."""
  names = ("train", "val") if dataset.meta.get("split") == "transfer" else ("train", "val", "test")
  splits = [_labelled(dataset.split(n)) for n in names]
  splits = [s for s in splits if len(s["y"])]
  keys = [k for k in splits[0] if all(k in s for s in splits)]
  pool = dataset_lib.concatenate(*[{k: s[k] for k in keys} for s in splits])
  group_key = next((k for k in AUTO_GROUP_KEYS if k in keys), None) if group_by == "auto" else (group_by or None)
  if group_key and group_key not in keys:
    raise ValueError(f"config.cv.group_by={group_key!r}: the data have no such key; found {sorted(keys)}")
  if group_key:
    offsets = np.cumsum([0] + [int(np.max(s[group_key])) + 1 for s in splits[:-1]])
    pool["group"] = np.concatenate([np.asarray(s[group_key]) + o for s, o in zip(splits, offsets)])
  return pool


def _is_classification(y) -> bool:
  return np.asarray(y).ndim == 1 and np.asarray(y).dtype.kind in "iu"


def _outer_splits(pool, folds: int, seed: int):
  y, n = np.asarray(pool["y"]), len(pool["y"])
  if not _is_classification(y):
    return list(model_selection.KFold(folds).split(np.zeros(n)))
  counts = np.bincount(y)
  if counts[counts > 0].min() < folds:
    raise ValueError(f"cv: the smallest class has {counts[counts > 0].min()} examples, fewer than "
                     f"--folds {folds}; lower the folds or add data")
  if "group" in pool:
    if len(np.unique(pool["group"])) < folds:
      raise ValueError(f"cv: {len(np.unique(pool['group']))} groups (recordings/subjects), fewer than "
                       f"--folds {folds}; lower the folds")
    splitter = model_selection.StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(n), y, pool["group"]))
  splitter = model_selection.StratifiedKFold(folds, shuffle=True, random_state=seed)
  return list(splitter.split(np.zeros(n), y))


def _validation_split(pool, rest, num_val: int, seed: int):
  y = np.asarray(pool["y"])
  if "group" in pool and len(np.unique(pool["group"][rest])) >= 2:
    splitter = model_selection.GroupShuffleSplit(1, test_size=num_val / len(rest), random_state=seed)
    train, val = next(splitter.split(rest, groups=pool["group"][rest]))
    return rest[train], rest[val]
  stratify = y[rest] if _is_classification(y) else None
  return model_selection.train_test_split(rest, test_size=num_val, random_state=seed, stratify=stratify,
                                          shuffle=stratify is not None)


def make_folds(pool: dict, folds: int, seed: int, val_fraction: float) -> list[dict]:
  """Per fold: index arrays `train`, `val`, `test` into `pool`, plus `trimmed` (count).

  Test parts are disjoint and cover the pool; train/val sizes are equal across folds.
  """
  parts = _outer_splits(pool, folds, seed)
  y = np.asarray(pool["y"])
  classes = len(np.unique(y)) if _is_classification(y) else 1
  smallest = min(len(rest) for rest, _ in parts)
  num_val = max(int(round(val_fraction * smallest)), classes)
  divided = [(*_validation_split(pool, rest, num_val, seed), test) for rest, test in parts]
  keep_train = min(len(t) for t, _, _ in divided)
  keep_val = min(len(v) for _, v, _ in divided)
  rng = np.random.default_rng(seed)
  out = []
  for train, val, test in divided:
    trimmed = len(train) - keep_train + len(val) - keep_val
    train = rng.choice(train, keep_train, replace=False) if len(train) > keep_train else train
    val = rng.choice(val, keep_val, replace=False) if len(val) > keep_val else val
    out.append({"train": np.sort(train), "val": np.sort(val), "test": np.sort(test), "trimmed": int(trimmed)})
  return out

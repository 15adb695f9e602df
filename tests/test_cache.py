"""The TFDS array_record cache: built once, read back equal and in order, rebuilt on change."""

import numpy as np

from research.data import cache


def splits(seed):
  rng = np.random.default_rng(seed)
  make = lambda n: {"x": rng.normal(size=(n, 4, 3)).astype(np.float32),
                    "y": rng.integers(0, 5, n).astype(np.int32)}
  return {"train": make(40), "test": make(7)}


def test_cache_round_trip_and_versioning(tmp_path):
  calls = []

  def build(seed):
    calls.append(seed)
    return splits(seed)

  first = cache.cached_splits("demo", {"window": 4, "version": 1}, lambda: build(0), tmp_path)
  again = cache.cached_splits("demo", {"window": 4, "version": 1}, lambda: build(0), tmp_path)
  assert calls == [0]
  expected = splits(0)
  for split in ("train", "test"):
    for key in ("x", "y"):
      np.testing.assert_array_equal(first[split][key], expected[split][key])
      np.testing.assert_array_equal(again[split][key], expected[split][key])
      assert again[split][key].dtype == expected[split][key].dtype
  cache.cached_splits("demo", {"window": 4, "version": 2}, lambda: build(1), tmp_path)
  assert calls == [0, 1]

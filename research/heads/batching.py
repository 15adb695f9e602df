"""Compiled feature transforms applied in fixed-size batches of rows, so each compiles once per shape."""

from __future__ import annotations

import jax
import numpy as np


def over_rows(compute, rows_each: int, *arrays) -> np.ndarray:
  """`compute(*batch)` (rows, F) on consecutive batches of `rows_each` rows of `arrays` (arrays or
  pytrees of arrays with one leading row axis), concatenated: the last batch is padded with copies
  of the last row, whose outputs are dropped, so every call has the same shape."""
  n = len(jax.tree_util.tree_leaves(arrays)[0])
  out = []
  for start in range(0, n, rows_each):
    rows = np.arange(start, start + rows_each).clip(max=n - 1)
    batch = jax.tree_util.tree_map(lambda a: a[rows], arrays)
    out.append(np.asarray(compute(*batch))[:n - start])
  return np.concatenate(out)

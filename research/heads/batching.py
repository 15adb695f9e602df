"""Feature transforms applied in fixed-size batches, so that each compiles once per series shape."""

from __future__ import annotations

import jax
import numpy as np


def in_batches(transform, *, batch_size: int, compiled: bool = False):
  """A numpy function x (N, T, C) -> features (N, F) calling jit(transform) (or `transform`
  itself when it is `compiled` already) on batches of `batch_size` rows (the last padded with
  copies of a row, which are then dropped)."""
  compiled = transform if compiled else jax.jit(transform)

  def features(x_NTC) -> np.ndarray:
    x_NTC = np.asarray(x_NTC, np.float32)
    out = []
    for start in range(0, len(x_NTC), batch_size):
      rows = np.arange(start, start + batch_size).clip(max=len(x_NTC) - 1)
      out.append(np.asarray(compiled(x_NTC[rows]))[:len(x_NTC) - start])
    return np.concatenate(out)

  return features

"""Batch samplers used inside the compiled epoch.

`SAMPLERS[name](key, data, batch_size, **options) -> (index (S, B) int32, weight (S, B) float32)`:
which examples make up each of the epoch's S steps, and their weights (0 = padding).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def num_examples(data) -> int:
  return len(jax.tree_util.tree_leaves(data)[0])


def uniform(key, data, batch_size: int):
  """A fresh permutation; the last partial batch is padded with zero-weight repeats.

  Every example is seen exactly once per epoch with weight 1.
  """
  n = num_examples(data)
  steps = -(-n // batch_size)
  pad = steps * batch_size - n
  order = jax.random.permutation(key, n)
  index = jnp.resize(order, steps * batch_size).reshape(steps, batch_size)  # pads with repeats
  weight = jnp.concatenate([jnp.ones(n), jnp.zeros(pad)]).reshape(steps, batch_size)
  return index.astype(jnp.int32), weight.astype(jnp.float32)


SAMPLERS = {
    "uniform": uniform,
}

"""Batch samplers used inside the compiled epoch.

`SAMPLERS[name](key, data, batch_size, **options) -> (index (S, B) int32, weight (S, B) float32)`:
which examples make up each of the epoch's S steps, and their weights (0 = padding).
"""

from __future__ import annotations

import math

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


def balanced(key, data, batch_size: int, share: float = 0.2, positive_key: str = "has_start"):
  """Batches in which at least `share` of the examples are positive (`data[positive_key]` != 0).

  Each of the ceil(N / B) steps holds ceil(share * B) positives, drawn without replacement
  from a fresh shuffle of the positives (cycling when they run out), and B - ceil(share * B)
  examples from a fresh permutation of all examples (positives among them raise the share
  further). All weights are 1. With no positive at all, every slot comes from the permutation.
  """
  if positive_key not in data:
    raise ValueError(f"balanced sampler: the training data has no key {positive_key!r} "
                     f"(config.train.sampler_args.positive_key); found {sorted(data)}")
  if not 0.0 <= share <= 1.0:
    raise ValueError(f"balanced sampler: share must lie in [0, 1]; found {share}")
  n = num_examples(data)
  steps = -(-n // batch_size)
  num_pos = min(math.ceil(share * batch_size - 1e-9), batch_size)
  num_rest = batch_size - num_pos
  positive = data[positive_key] != 0
  order_key, rest_key = jax.random.split(key)
  # Positives first, each group in random order: argsort of uniform keys shifted for negatives.
  ranks = jax.random.uniform(order_key, (n,)) + jnp.where(positive, 0.0, 2.0)
  pos_order = jnp.argsort(ranks)
  count = positive.sum()
  slots = jnp.arange(steps * num_pos)
  permutation = jnp.resize(jax.random.permutation(rest_key, n), steps * (num_rest + num_pos))
  pos_index = jnp.where(count > 0, pos_order[slots % jnp.maximum(count, 1)],
                        permutation[steps * num_rest + slots])
  rest_index = permutation[:steps * num_rest]
  index = jnp.concatenate([pos_index.reshape(steps, num_pos), rest_index.reshape(steps, num_rest)], 1)
  return index.astype(jnp.int32), jnp.ones((steps, batch_size), jnp.float32)


SAMPLERS = {
    "uniform": uniform,
    "balanced": balanced,
}


def from_config(config):
  """`fn(key, data, batch_size)` of `config.train.sampler` with its `sampler_args`."""
  name = config.train.sampler
  if name not in SAMPLERS:
    raise ValueError(f"Unknown sampler {name!r} (config.train.sampler); valid: {sorted(SAMPLERS)}")
  options = config.train.get("sampler_args", {})
  options = options.to_dict() if hasattr(options, "to_dict") else dict(options)
  return lambda key, data, batch_size: SAMPLERS[name](key, data, batch_size, **options)


def augment_from_config(config):
  """`fn(key, batch) -> batch` for every training batch, or None.

  The dataset's fresh noise draw (`research.data.transforms.build_redraw`) first, then
  the window augmentation of `config.augment`.
  """
  from research.data import transforms
  redraw = transforms.build_redraw(config.data)
  window_augment = transforms.build_augment(config.get("augment"))
  if redraw is None and window_augment is None:
    return None

  def transform(key, batch):
    if redraw is not None:
      key, redraw_key = jax.random.split(key)
      batch = redraw(redraw_key, batch)
    if window_augment is not None:
      batch = {**batch, "x": window_augment(key, batch["x"])}
    return batch

  return transform

"""Early stopping and reduce-on-plateau as jit-updated state (Keras semantics).

Both watch one monitored value per epoch. Being plain arrays updated by pure
functions, they run inside the compiled epoch and vmap over many runs.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import struct


@struct.dataclass
class Controllers:
  best: jnp.ndarray  # best monitored value so far (early stopping / best weights)
  best_epoch: jnp.ndarray  # epoch (1-based) that reached it; 0 before any
  wait: jnp.ndarray  # early stopping: epochs since the last improvement
  stopped: jnp.ndarray  # early stopping has fired
  plateau_best: jnp.ndarray
  plateau_wait: jnp.ndarray
  cooldown: jnp.ndarray  # plateau: epochs left in cooldown


def init(mode: str) -> Controllers:
  # Separate arrays per field: a shared buffer cannot be donated twice.
  worst = lambda: jnp.array(jnp.inf if mode == "min" else -jnp.inf, jnp.float32)
  zero = lambda: jnp.array(0, jnp.int32)
  return Controllers(best=worst(), best_epoch=zero(), wait=zero(), stopped=jnp.array(False),
                     plateau_best=worst(), plateau_wait=zero(), cooldown=zero())


def improved(current, best, mode: str, min_delta: float):
  """Keras' test: better than `best` by more than `min_delta`."""
  if mode == "min":
    return current < best - abs(min_delta)
  return current > best + abs(min_delta)


def early_stopping(c: Controllers, current, epoch, *, mode, patience, min_delta):
  """Keras EarlyStopping.on_epoch_end: count, reset on improvement, stop at patience.

  Returns (controllers, is_new_best).
  """
  better = improved(current, c.best, mode, min_delta)
  wait = jnp.where(better, 0, c.wait + 1)
  stop = jnp.logical_not(better) & (wait >= patience) & (epoch > 1)
  c = c.replace(best=jnp.where(better, current, c.best),
                best_epoch=jnp.where(better, epoch, c.best_epoch),
                wait=wait, stopped=c.stopped | stop)
  return c, better


def reduce_on_plateau(c: Controllers, current, lr, *, mode, factor, patience, min_delta,
                      cooldown, min_lr):
  """Keras ReduceLROnPlateau.on_epoch_end. Returns (controllers, new_lr)."""
  in_cooldown = c.cooldown > 0
  cooldown_left = jnp.where(in_cooldown, c.cooldown - 1, c.cooldown)
  wait = jnp.where(in_cooldown, 0, c.plateau_wait)
  better = improved(current, c.plateau_best, mode, min_delta)
  still_cooling = cooldown_left > 0
  wait = jnp.where(better, 0, jnp.where(still_cooling, wait, wait + 1))
  reduce = jnp.logical_not(better) & jnp.logical_not(still_cooling) & (wait >= patience) & (lr > min_lr)
  new_lr = jnp.where(reduce, jnp.maximum(lr * factor, min_lr), lr)
  c = c.replace(plateau_best=jnp.where(better, current, c.plateau_best),
                plateau_wait=jnp.where(reduce, 0, wait),
                cooldown=jnp.where(reduce, cooldown, cooldown_left))
  return c, new_lr.astype(jnp.asarray(lr).dtype)

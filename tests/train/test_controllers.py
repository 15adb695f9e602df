"""Early stopping and reduce-on-plateau against hand-computed Keras behaviour."""

import jax.numpy as jnp
import numpy as np
import pytest

from research.train import controllers


def run_early_stopping(values, mode="min", patience=2, min_delta=0.0):
  c = controllers.init(mode)
  stopped_at, bests = None, []
  for epoch, value in enumerate(values, 1):
    c, is_best = controllers.early_stopping(c, jnp.float32(value), epoch, mode=mode,
                                            patience=patience, min_delta=min_delta)
    bests.append(bool(is_best))
    if bool(c.stopped):
      stopped_at = epoch
      break
  return stopped_at, int(c.best_epoch), bests


def test_early_stopping_min_stops_after_patience():
  # Best at epoch 2 (0.5); epochs 3, 4 do not improve -> wait reaches 2 at epoch 4.
  stopped_at, best_epoch, bests = run_early_stopping([1.0, 0.5, 0.6, 0.55, 0.4])
  assert stopped_at == 4
  assert best_epoch == 2
  assert bests == [True, True, False, False]


def test_early_stopping_max_with_min_delta():
  # mode max, min_delta 0.1: 0.55 over 0.5 is not an improvement, 0.65 is.
  stopped_at, best_epoch, bests = run_early_stopping([0.5, 0.55, 0.65, 0.6, 0.7, 0.7], mode="max",
                                                     patience=2, min_delta=0.1)
  assert bests == [True, False, True, False, False]
  assert stopped_at == 5
  assert best_epoch == 3


def test_early_stopping_never_on_first_epoch():
  stopped_at, _, _ = run_early_stopping([float("nan")], patience=0)
  assert stopped_at is None


def run_plateau(values, lr=1.0, **kwargs):
  c = controllers.init(kwargs.pop("mode", "min"))
  lrs = []
  for value in values:
    c, lr = controllers.reduce_on_plateau(c, jnp.float32(value), jnp.float32(lr), mode="min", **kwargs)
    lrs.append(float(lr))
  return lrs


def test_plateau_halves_after_patience_then_waits_again():
  # Improvements at 1, 2; no improvement at 3, 4 -> halve at 4; then 5, 6 -> halve at 6.
  lrs = run_plateau([1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8],
                    factor=0.5, patience=2, min_delta=0.0, cooldown=0, min_lr=0.0)
  assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_plateau_cooldown_and_min_lr():
  # patience 1, cooldown 2, a flat metric. Keras decrements the cooldown counter first:
  # epoch 2 reduces (counter := 2); epoch 3 leaves it at 1 (still cooling, no count);
  # epoch 4 brings it to 0 and counts -> reduces again, floored by min_lr 0.3;
  # epoch 6 would reduce but lr is already at min_lr.
  lrs = run_plateau([1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                    factor=0.5, patience=1, min_delta=0.0, cooldown=2, min_lr=0.3)
  assert lrs == pytest.approx([1.0, 0.5, 0.5, 0.3, 0.3, 0.3])


def test_plateau_min_delta_counts_small_gains_as_plateau():
  lrs = run_plateau([1.0, 0.99995, 0.9999], factor=0.1, patience=2, min_delta=1e-4,
                    cooldown=0, min_lr=0.0)
  np.testing.assert_allclose(lrs, [1.0, 1.0, 0.1])

"""Golden values: each model family's loss after a few optimizer steps on fixed data.

Any silent numeric change (a layer, an initialiser, the loss, the optimizer, the
engine's step) moves these numbers. Update a value only for a change that is
meant to alter the numbers, and say which in the commit.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from conftest import load_config
from research.models import build_model
from research.tasks import build_task
from research.train import engine, optim

STEPS = 3

# config, batch shape, meta, loss after STEPS steps (recorded on this codebase, CPU).
GOLDEN = {
    "lstm_filter": ((8, 20, 5), {}, 0.6879328489303589),
    "sign_lstm": ((8, 10, 1662), {"class_names": ["a", "b", "c"]}, 1.1154870986938477),
    "maxcrnn": ((8, 256, 1), {"class_names": ["a", "b", "c", "d"]}, 1.3563973903656006),
    "tcn": ((8, 30, 25), {"class_names": ["a", "b", "c", "d", "e"]}, 4.17736291885376),
    "cnn_svm": ((8, 32, 32, 1), {"class_names": ["a", "b", "c", "d", "e", "f"]}, 1.812023401260376),
    "inception_time": ((8, 30, 2), {"class_names": ["a", "b", "c"]}, 0.96796053647995),
}


def _batch(name, shape, meta):
  rng = np.random.default_rng(0)
  x = rng.normal(size=shape).astype(np.float32)
  batch = {"x": x, "weight": np.ones(shape[0], np.float32)}
  if name == "lstm_filter":
    batch["y"] = rng.normal(size=shape[:2] + (1,)).astype(np.float32)
  elif name == "tcn":
    batch["y"] = rng.integers(0, len(meta["class_names"]), shape[0]).astype(np.int32)
    batch["seg"] = rng.uniform(size=shape[:2]).astype(np.float32)
    batch["has_start"] = np.ones(shape[0], np.float32)
  else:
    batch["y"] = rng.integers(0, len(meta["class_names"]), shape[0]).astype(np.int32)
  return batch


def loss_after_steps(name: str) -> float:
  shape, meta, _ = GOLDEN[name]
  config = load_config(name)
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  optimizer = optim.build_optimizer(config.optim)
  batch = _batch(name, shape, meta)
  state = engine.init_state(jax.random.PRNGKey(0), model, optimizer, batch["x"], config.train.mode)
  step = jax.jit(lambda s, b, k: engine.train_step(model, task, optimizer, s, b, k))
  for i in range(STEPS):
    state, (sums, total, _) = step(state, batch, jax.random.PRNGKey(100 + i))
  return float(sums["loss"] / total)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_loss_after_fixed_steps_is_the_recorded_value(name):
  expected = GOLDEN[name][2]
  found = loss_after_steps(name)
  assert found == pytest.approx(expected, abs=1e-5), (
      f"{name}: loss after {STEPS} steps is {found!r}, recorded {expected!r}. Update GOLDEN only for a "
      "change meant to alter the numbers (model, initialiser, loss, optimizer or train step).")


if __name__ == "__main__":  # Prints the values to record.
  for key in sorted(GOLDEN):
    print(key, repr(loss_after_steps(key)))

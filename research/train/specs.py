"""What the host loop (research.train.loop) takes and gives back, and how a run fails.

Apart from loop.py so that a run without a network (a feature map and a head) imports
neither flax nor optax: they take 0.2 s of such a run's start.
"""

from __future__ import annotations

import dataclasses

from research.errors import ResearchError


class TrainingError(ResearchError):
  """A run that cannot go on; the message says why and what to do."""


class CheckpointMismatch(TrainingError):
  """The checkpoint to resume is intact but holds another state than the config builds."""


@dataclasses.dataclass
class RunSpec:
  """One run: its seed, its own train/validation splits (numpy dicts) and, optionally, its own
  learning rate (a sweep point; None: config.optim.lr)."""
  seed: int
  train: dict
  val: dict
  lr: float | None = None


@dataclasses.dataclass
class RunResult:
  seed: int
  history: list[dict]  # one row per epoch the run trained (stopped runs stop adding rows)
  variables: dict  # {'params', 'batch_stats'}: best weights when restore_best, else the last
  last_variables: dict  # the weights after the run's last epoch
  best_epoch: int  # 0 when no epoch was trained
  stopped_epoch: int  # epoch at which early stopping fired; 0 if it never did

"""Task registry: what a model is trained to do.

A task is a frozen dataclass with pure functions of (model outputs, batch):
  losses(outputs, batch)  -> (B,) per-example loss (time padding already handled)
  metrics(outputs, batch) -> {name: (B,)} per-example values
  predict(outputs)        -> {name: array} what reports and predictions use
The engine averages losses and metrics with the batch's example weights, so a
zero-weight padding example never counts.
"""

from __future__ import annotations

from research.tasks import classification
from research.tasks import classify_and_segment
from research.tasks import regression

TASKS = {
    "classification": classification.Classification,
    "classify_and_segment": classify_and_segment.ClassifyAndSegment,
    "regression": regression.Regression,
}


def build_task(task_config, meta):
  """Builds `TASKS[task_config.name]` from the config's other fields."""
  del meta  # Reserved for tasks that derive settings from the data.
  name = task_config.name
  if name not in TASKS:
    raise ValueError(f"Unknown task {name!r} (config.task.name); valid: {sorted(TASKS)}")
  kwargs = {k: v for k, v in task_config.to_dict().items() if k != "name"}
  return TASKS[name](**kwargs)

"""The workdir record: atomic JSON/text writes, the history file, TensorBoard events."""

from __future__ import annotations

import json
import math
import os
import pathlib
import tempfile
from typing import Any


def jsonable(value):
  """`value` with arrays as lists and non-finite floats as strings, ready for json.dumps."""
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  if hasattr(value, "tolist"):
    return jsonable(value.tolist())
  if isinstance(value, dict):
    return {str(k): jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [jsonable(v) for v in value]
  return value


def write_text_atomic(path, text: str) -> None:
  """Writes `text` to `path` through a temporary file, so no reader sees half of it."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
  try:
    with os.fdopen(fd, "w") as f:
      f.write(text)
    os.replace(tmp, path)
  except BaseException:
    pathlib.Path(tmp).unlink(missing_ok=True)
    raise


def write_json_atomic(path, data: Any) -> None:
  write_text_atomic(path, json.dumps(jsonable(data), indent=2, sort_keys=True) + "\n")


def write_history(path, history: list[dict]) -> None:
  """history.jsonl: one JSON line per epoch, rewritten whole (a resume rewrites it from the checkpoint's copy)."""
  write_text_atomic(path, "".join(json.dumps(jsonable(row), sort_keys=True) + "\n" for row in history))


def read_history(path) -> list[dict]:
  """The rows of a history.jsonl."""
  return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


def best_row(history: list[dict]) -> dict:
  """The epoch whose weights the run keeps as best: the last one the controllers marked `is_best`."""
  return next(row for row in reversed(history) if row["is_best"])


def read_json(path):
  with open(path) as f:
    return json.load(f)


class EventWriter:
  """TensorBoard scalars through tensorboardX (no TensorFlow at training time)."""

  def __init__(self, logdir):
    from tensorboardX import SummaryWriter  # Imported here: only training writes events.
    self.writer = SummaryWriter(str(logdir))

  def scalars(self, step: int, values: dict) -> None:
    for name, value in values.items():
      if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "epoch":
        self.writer.add_scalar(name, value, step)
    self.writer.flush()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.writer.close()

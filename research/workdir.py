"""The workdir record, shared by every run and study: atomic writes, JSON, history, identity.

A workdir is written only through these functions: every file appears whole or
not at all (a temporary file renamed into place), written by process 0 alone in a
multi-process run (checkpoints excepted: every process writes its part), and a workdir refuses a run
whose data, model or task differ from the run it already holds. One process writes a workdir at a
time (research.workdir_lock); which training fields may change on resume: research.train.resume.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import tempfile
from typing import Any

from research.errors import ResearchError

# Config groups that define what is trained; a workdir refuses a run that changes them.
IDENTITY_GROUPS = ("data", "model", "task")


class WorkdirError(ResearchError):
  """A workdir that cannot be used as asked; the message says why and what to do."""


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
  write_bytes_atomic(path, text.encode())


def write_bytes_atomic(path, blob: bytes) -> None:
  """Writes `blob` atomically; in a multi-process run only process 0 writes (research.distributed)."""
  from research import distributed  # jax-free until a write
  if not distributed.is_writer():
    return
  path = pathlib.Path(path)
  try:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
  except OSError as error:  # name the file asked for, not the temporary one
    raise OSError(error.errno, error.strerror, str(path)) from error
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(blob)
    os.replace(tmp, path)
  except BaseException:
    pathlib.Path(tmp).unlink(missing_ok=True)
    raise


def write_json_atomic(path, data: Any) -> None:
  write_text_atomic(path, json.dumps(jsonable(data), indent=2, sort_keys=True) + "\n")


def read_json(path):
  """The JSON in `path`; a malformed file is an error that names it."""
  path = pathlib.Path(path)
  try:
    return json.loads(path.read_text())
  except json.JSONDecodeError as error:
    raise WorkdirError(f"{path} is not valid JSON ({error}); restore it or remove the workdir") from error


def write_history(path, history: list[dict]) -> None:
  """history.jsonl: one JSON line per epoch (and run), rewritten whole."""
  write_text_atomic(path, "".join(json.dumps(jsonable(row), sort_keys=True) + "\n" for row in history))


def read_history(path) -> list[dict]:
  """The rows of a history.jsonl; a malformed line is an error naming the file and line."""
  rows = []
  for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
    try:
      rows.append(json.loads(line))
    except json.JSONDecodeError as error:
      raise WorkdirError(f"{path}, line {number}: not valid JSON ({error})") from error
  return rows


def best_row(history: list[dict]) -> dict:
  """The epoch whose weights the run keeps as best: the last one the controllers marked `is_best`."""
  return next(row for row in reversed(history) if row["is_best"])


def config_json(config) -> dict:
  return json.loads(config.to_json_best_effort())


def check_identity(workdir, config, groups=IDENTITY_GROUPS) -> None:
  """Refuses a workdir whose config.json has other `groups` than `config` (None: every group)."""
  path = pathlib.Path(workdir) / "config.json"
  if not path.exists():
    return
  old, new = read_json(path), config_json(config)
  # Where runs train (config.mesh) never changes what they are.
  groups = sorted((set(old) | set(new)) - {"mesh"}) if groups is None else groups
  changed = [g for g in groups if old.get(g) != new.get(g)]
  if not changed:
    return
  diffs = []
  for group in changed:
    before, after = old.get(group), new.get(group)
    if not (isinstance(before, dict) and isinstance(after, dict)):
      diffs.append(f"{group}: {before!r} -> {after!r}")
      continue
    diffs += [f"{group}.{k}: {before.get(k)!r} -> {after.get(k)!r}"
              for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
  raise WorkdirError(
      f"{workdir} holds a run with a different {', '.join(changed)} config ({'; '.join(diffs)}). "
      f"Resuming only allows training fields to change: choose a new --workdir, or restore the "
      f"old settings.")


def start(workdir, config, groups=IDENTITY_GROUPS) -> pathlib.Path:
  """Checks identity (`groups`), creates the workdir and writes its config.json; returns the path."""
  workdir = pathlib.Path(workdir)
  if workdir.exists() and not workdir.is_dir():
    raise WorkdirError(f"--workdir {workdir} is a file, not a folder; choose another path")
  check_identity(workdir, config, groups)
  try:
    workdir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(workdir / "config.json", config_json(config))
  except OSError as error:  # no space, read-only, permission: the path and the cause in one line
    raise WorkdirError(f"--workdir {workdir} is not writable ({error.strerror}: {error.filename or workdir}); "
                       "choose a folder you can write to, or free space") from error
  return workdir


def check_data(workdir, meta: dict) -> None:
  """Refuses a workdir whose dataset.json records other data (its `fingerprint`) than `meta`."""
  path = pathlib.Path(workdir) / "dataset.json"
  if not path.exists():
    return
  old = read_json(path).get("fingerprint")
  if old is not None and old != meta.get("fingerprint"):
    raise WorkdirError(
        f"{workdir} was trained on other data: the loaded splits' fingerprint {meta.get('fingerprint', '')[:12]}... "
        f"differs from {old[:12]}... in {path} (a data file changed under the same path?). Choose a new "
        "--workdir, or restore the data the run was trained on.")

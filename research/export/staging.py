"""An export written whole or not at all: staged in a private folder, then moved into place.

`staged(workdir)` yields a fresh folder `.export-tmp-XXXX` inside the workdir. The
export writes every file there (model files, labels.json, C sources, export.json);
when the body returns, the files are renamed over their targets in a fixed order,
export.json last, and the folder is removed. Renames within one folder are atomic
and take microseconds; SIGINT and SIGTERM are held while they run, so an interrupted
export leaves the previous complete export (or none), never a mix. Only SIGKILL or a
power cut inside those renames could.

While the body runs, SIGINT and SIGTERM raise `ExportInterrupted` (a KeyboardInterrupt
whose message says the previous export is unchanged); an OSError becomes
`ExportWriteError`, naming the path and the cause. Either way the staging folder is
removed. Leftover staging folders of a killed export are removed by the next one.
Files of the previous export.json that the new export does not write (model.int8.tflite
after an export without int8) are removed once the new export.json is in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import tempfile
import threading

from research.errors import ResearchError

PREFIX = ".export-tmp-"
RECORD = "export.json"
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _previous(workdir: pathlib.Path) -> str:
  """What an interrupted or failed export leaves in `workdir`, in words."""
  if (workdir / RECORD).exists():
    return f"the previous export in {workdir} is unchanged"
  return f"{workdir} holds no export, as before"


class ExportInterrupted(KeyboardInterrupt):
  """SIGINT/SIGTERM (or Ctrl-C) during an export; `signal_number` says which, the message what is left."""

  def __init__(self, message: str, signal_number: int):
    super().__init__(message)
    self.signal_number = signal_number


class ExportWriteError(ResearchError):
  """An OSError while writing an export (disk full, read-only or unwritable workdir)."""


class _SignalGuard:
  """While armed, the first SIGINT/SIGTERM raises ExportInterrupted; later, signals are only recorded."""

  def __init__(self, workdir: pathlib.Path):
    self.workdir = workdir
    self.armed = True
    self.received: int | None = None

  def handler(self, number, frame):
    del frame
    if self.received is None:
      self.received = number
    if self.armed:
      self.armed = False
      raise interrupted(self.workdir, number)

  def hold(self) -> None:
    self.armed = False


def interrupted(workdir: pathlib.Path, number: int) -> ExportInterrupted:
  name = signal.Signals(number).name
  return ExportInterrupted(f"export interrupted ({name}): {_previous(workdir)}", number)


@contextlib.contextmanager
def _signals(workdir: pathlib.Path):
  """Yields a _SignalGuard handling SIGINT and SIGTERM (main thread only; elsewhere it handles none)."""
  guard = _SignalGuard(workdir)
  if threading.current_thread() is not threading.main_thread():
    yield guard
    return
  previous = {number: signal.signal(number, guard.handler) for number in SIGNALS}
  try:
    yield guard
  finally:
    for number, old in previous.items():
      signal.signal(number, old)


def remove_leftovers(workdir) -> None:
  """Removes the staging folders that a killed export left in `workdir`."""
  for folder in pathlib.Path(workdir).glob(f"{PREFIX}*"):
    shutil.rmtree(folder)


def _listed_files(record_path: pathlib.Path) -> set[str]:
  """The model and source files an export.json names (not labels.json: the report writes it too)."""
  try:
    record = json.loads(record_path.read_text())
  except (OSError, ValueError):
    return set()
  files = set(record.get("files") or [])
  files |= {row["file"] for row in record.get("exports") or [] if isinstance(row, dict) and "file" in row}
  return {name for name in files if isinstance(name, str) and pathlib.Path(name).name == name}


def commit(staging: pathlib.Path, workdir: pathlib.Path) -> None:
  """Renames every file in `staging` over its namesake in `workdir`, export.json last, then removes
  the files the previous export.json named that this export did not write."""
  stale = _listed_files(workdir / RECORD)
  names = sorted(path.name for path in staging.iterdir() if path.name != RECORD)
  if (staging / RECORD).exists():
    names.append(RECORD)
  for number, name in enumerate(names):
    try:
      os.replace(staging / name, workdir / name)
    except OSError as error:
      if not number:
        raise
      raise ExportWriteError(f"export failed while moving it into place: {workdir / name}: {error.strerror}; "
                             f"{workdir} holds part of the new export: run the export again") from error
  for name in sorted(stale - set(names)):
    (workdir / name).unlink(missing_ok=True)


@contextlib.contextmanager
def staged(workdir):
  """Yields a staging folder in `workdir`; on return its files replace the export (see the module doc)."""
  workdir = pathlib.Path(workdir)
  with _signals(workdir) as guard:
    staging = None
    try:
      remove_leftovers(workdir)
      staging = pathlib.Path(tempfile.mkdtemp(prefix=PREFIX, dir=workdir))
      yield staging
      guard.hold()
      commit(staging, workdir)
    except ExportInterrupted:
      raise
    except KeyboardInterrupt:  # Ctrl-C outside the main thread's handler, or raised by the body
      raise interrupted(workdir, signal.SIGINT) from None
    except OSError as error:
      path = error.filename or workdir
      cause = error.strerror or str(error)
      raise ExportWriteError(f"export failed: {path}: {cause}; {_previous(workdir)}") from error
    finally:
      guard.hold()
      if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    if guard.received is not None:
      # The signal came while the renames ran: they finished, so the new export is whole.
      name = signal.Signals(guard.received).name
      raise ExportInterrupted(f"export interrupted ({name}) as it was moved into place: {workdir} "
                              "holds the new export, whole", guard.received)

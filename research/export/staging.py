"""An export written whole or not at all: staged in a private folder, then moved into place.

  with Export(workdir) as export:     # from here, SIGINT/SIGTERM raise ExportInterrupted
    ...read the run back...
    with export.staged() as folder:   # a fresh .export-tmp-XXXX inside the workdir
      ...write every file into folder (models, labels.json, C sources, export.json)...

When the `staged` body returns, the files are renamed over their namesakes in the workdir
in a fixed order, export.json last, and the folder is removed. Renames within one folder
are atomic and take microseconds, and SIGINT/SIGTERM are held while they run: an
interrupted export leaves the previous complete export (or none), never a mix. Only
SIGKILL or a power cut inside those renames could.

Interrupted (a signal, or any KeyboardInterrupt), the export raises ExportInterrupted (a
KeyboardInterrupt whose message says the previous export is unchanged); an OSError in
the `staged` body becomes ExportWriteError, naming the path and the cause. Either way the
staging folder is removed; one left by a killed export is removed by the next export.
Files that the previous export.json named and the new export does not write
(model.int8.tflite after an export without int8) are removed after the new export.json.
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


def interrupted(workdir: pathlib.Path, number: int) -> ExportInterrupted:
  name = signal.Signals(number).name
  return ExportInterrupted(f"export interrupted ({name}): {_previous(workdir)}", number)


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


class Export:
  """One export into `workdir`, used as `with Export(workdir) as export:`.

  From `with` on (main thread), every SIGINT or SIGTERM raises ExportInterrupted, and
  any KeyboardInterrupt leaves as one. `export.staged()` yields the staging folder and
  moves its files into place when its body returns; signals are held from then on.
  """

  def __init__(self, workdir):
    self.workdir = pathlib.Path(workdir)
    self.armed = True  # False from the renames on: signals are held
    self.interrupt: int | None = None  # a signal received while armed (its exception may have been swallowed)
    self.held: int | None = None  # the first signal held
    self._previous_handlers = {}

  def _handler(self, number, frame):
    del frame
    if self.armed:
      # Python drops an exception raised inside a gc callback or __del__; `interrupt` stops the
      # renames even then, and every further signal raises again.
      self.interrupt = number
      raise interrupted(self.workdir, number)
    if self.held is None:
      self.held = number

  def __enter__(self) -> "Export":
    if threading.current_thread() is not threading.main_thread():  # signals reach only the main thread
      return self
    for number in SIGNALS:
      if signal.getsignal(number) is not signal.SIG_IGN:  # a process told to ignore it goes on ignoring it
        self._previous_handlers[number] = signal.signal(number, self._handler)
    return self

  def __exit__(self, kind, error, traceback) -> None:
    self.armed = False
    for number, handler in self._previous_handlers.items():
      signal.signal(number, handler)
    if isinstance(error, KeyboardInterrupt) and not isinstance(error, ExportInterrupted):
      raise interrupted(self.workdir, signal.SIGINT) from None
    if error is None and self.interrupt is not None:  # swallowed, and nothing moved into place since
      raise interrupted(self.workdir, self.interrupt)
    if error is None and self.held is not None:
      # The signal came while the files were moved into place, or after: the renames finished.
      name = signal.Signals(self.held).name
      raise ExportInterrupted(f"export interrupted ({name}) as it finished: {self.workdir} holds the new "
                              "export, whole", self.held)

  @contextlib.contextmanager
  def staged(self):
    """Yields a fresh staging folder in the workdir; its files replace the export when the body returns."""
    staging = None
    try:
      remove_leftovers(self.workdir)
      staging = pathlib.Path(tempfile.mkdtemp(prefix=PREFIX, dir=self.workdir))
      yield staging
      self.armed = False
      if self.interrupt is not None:  # a signal whose exception a library swallowed
        raise interrupted(self.workdir, self.interrupt)
      commit(staging, self.workdir)
    except OSError as error:
      path = error.filename or self.workdir
      cause = error.strerror or str(error)
      raise ExportWriteError(f"export failed: {path}: {cause}; {_previous(self.workdir)}") from error
    finally:
      self.armed = False
      if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)

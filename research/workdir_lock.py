"""One writer per workdir: a lock file held by the training (or study) that writes the folder.

`hold(folder)` takes an exclusive `fcntl.flock` on `<folder>/.lock` and writes the
holder into it (pid, host, start time, command). The operating system releases the
lock when the process ends, however it ends (exception, signal, SIGKILL), so a lock is
never stuck; a holder record left by a process that died (a dead pid on this host, or
a record whose lock nobody holds) is taken over with a note. A second writer is
refused at once with the holder named.

Multi-process runs: only the process that writes files (process 0,
research.distributed.is_writer) holds the lock; the others write only their parts of a
checkpoint, under process 0's lock. A folder the holder created and left empty is removed again on release (a command
refused by its checks leaves nothing behind). `holder(folder)` tells a reader (evaluate,
predict) whether a writer is at work, so that it reads the newest committed
checkpoint and writes nothing of the trainer's. On a file system without flock
(some network mounts) taking the lock is an OSError, reported in one line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import functools
import inspect
import json
import os
import pathlib
import shlex
import socket
import sys

from research import workdir as workdir_lib

LOCK = ".lock"
_held: set[pathlib.Path] = set()  # Folders this process holds: a study's run locks nothing twice.


class WorkdirBusyError(workdir_lib.WorkdirError):
  """Another process writes the workdir; the message names it."""


@dataclasses.dataclass(frozen=True)
class Holder:
  pid: int
  host: str
  started: str
  command: str

  def __str__(self):
    return f"process {self.pid} on {self.host}, started {self.started}: {self.command}"


def _read(fd: int) -> Holder | None:
  os.lseek(fd, 0, os.SEEK_SET)
  text = os.read(fd, 65536).decode(errors="replace").strip()
  if not text:
    return None
  try:
    return Holder(**json.loads(text))
  except (ValueError, TypeError):
    return None


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _unusable(path: pathlib.Path, error: OSError) -> workdir_lib.WorkdirError:
  return workdir_lib.WorkdirError(f"cannot lock {path}: {error.strerror}; the workdir must be a folder you can "
                                  "write to (choose another --workdir, or free space / make it writable)")


def holder(folder) -> Holder | None:
  """The process writing `folder` now, or None (no lock file, or nobody holds it)."""
  path = pathlib.Path(folder) / LOCK
  try:
    fd = os.open(path, os.O_RDONLY)
  except OSError:
    return None
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
      return _read(fd) or Holder(0, "?", "?", "unknown (the lock file names no holder yet)")
    except OSError:
      return None
    fcntl.flock(fd, fcntl.LOCK_UN)
    return None
  finally:
    os.close(fd)


@contextlib.contextmanager
def hold(folder):
  """Holds `folder`'s lock while the block runs (creating the folder); refuses a held one."""
  from research import distributed  # jax-free until a lock is taken
  folder = pathlib.Path(folder)
  key = folder.absolute()
  if key in _held or not distributed.is_writer():
    yield
    return
  if folder.exists() and not folder.is_dir():
    raise workdir_lib.WorkdirError(f"--workdir {folder} is a file, not a folder; choose another path")
  path = folder / LOCK
  created = not folder.exists()
  try:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  except OSError as error:
    raise _unusable(path, error) from error
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    found = _read(fd)
    os.close(fd)
    raise WorkdirBusyError(
        f"{folder} is being written by {found or 'another process'}. One workdir has one writer: wait for "
        f"it to finish (or stop it), or choose another --workdir. Reading it (evaluate, predict) is fine.") from None
  except OSError as error:
    os.close(fd)
    raise _unusable(path, error) from error
  left = _read(fd)
  if left is not None:
    gone = "no longer running" if left.host == socket.gethostname() and not _alive(left.pid) else "lock released"
    print(f"note: taking over the lock of {folder} left by {left} ({gone})", flush=True)
  me = Holder(os.getpid(), socket.gethostname(), datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              shlex.join([sys.executable, *sys.argv]))
  try:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(dataclasses.asdict(me)).encode() + b"\n", 0)
  except OSError as error:
    os.close(fd)
    raise _unusable(path, error) from error
  _held.add(key)
  try:
    yield
  finally:
    _held.discard(key)
    with contextlib.suppress(OSError):
      os.ftruncate(fd, 0)  # Released cleanly: no holder record left behind.
    os.close(fd)  # Closing the descriptor releases the flock.
    if created and [p.name for p in folder.iterdir()] == [LOCK]:  # Refused before writing: leave no trace.
      with contextlib.suppress(OSError):
        path.unlink()
        folder.rmdir()


def locks_workdir(function):
  """Decorator: the call holds the lock of its `workdir` argument (a study's folder) while it runs."""
  signature = inspect.signature(function)

  @functools.wraps(function)
  def locked(*args, **kwargs):
    with hold(signature.bind(*args, **kwargs).arguments["workdir"]):
      return function(*args, **kwargs)
  return locked

"""SIGTERM and SIGINT during training: finish the epoch, save it, then stop with the resume command.

Schedulers and preemption send SIGTERM; a user presses Ctrl-C (SIGINT). The first
signal only sets a flag: the host loop saves the epoch that is running when it
ends and raises `Interrupted`. A second signal stops at once (KeyboardInterrupt);
checkpoints are written whole or not at all, so that is safe too.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Interrupted(Exception):
  """Training stopped on a signal after saving; `signal_number` says which.

  Not a ResearchError: the launch scripts let it through to `research.cli`, which
  prints the resume command and exits 128 + the signal's number.
  """

  def __init__(self, message: str, signal_number: int):
    super().__init__(message)
    self.signal_number = signal_number


class Flag:
  """The first signal received, or None."""

  def __init__(self):
    self.signal_number = None

  def __bool__(self):
    return self.signal_number is not None

  @property
  def name(self) -> str:
    return signal.Signals(self.signal_number).name if self.signal_number else ""


@contextlib.contextmanager
def graceful():
  """Yields a Flag set by the first SIGTERM/SIGINT; the second raises KeyboardInterrupt."""
  flag = Flag()
  if threading.current_thread() is not threading.main_thread():
    yield flag  # Signals reach only the main thread; nothing to install elsewhere.
    return

  def handler(number, frame):
    del frame
    if flag:
      raise KeyboardInterrupt
    flag.signal_number = number
    print(f"\n{signal.Signals(number).name} received: saving after this epoch (again to stop at once).",
          flush=True)

  previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
  try:
    yield flag
  finally:
    for sig, old in previous.items():
      signal.signal(sig, old)

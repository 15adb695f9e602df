"""The error every reader raises for input it cannot use."""

from __future__ import annotations


class DataError(ValueError):
  """Bad input data. The message names the file or key, what was expected, what was found and
  what to do; `reason` is a short code (e.g. 'wrong_shape') by which skipped items are counted.

  A ValueError, so `except ValueError` around a loader keeps catching it.
  """

  def __init__(self, message: str, reason: str = "invalid"):
    super().__init__(message)
    self.reason = reason

  def __reduce__(self):  # keep `reason` across pickling (worker processes)
    return type(self), (str(self), self.reason)


class DataNotFoundError(DataError, FileNotFoundError):
  """A data file or folder that does not exist (also a FileNotFoundError)."""

  def __init__(self, message: str, reason: str = "not_found"):
    super().__init__(message, reason)


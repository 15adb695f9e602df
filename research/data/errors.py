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


def read_npz(path, how_to_save: str) -> dict:
  """Every array of the `.npz` at `path` (no pickles); an unreadable file is a DataError that ends
  with `how_to_save` (e.g. "save with numpy.savez(path, x=..., y=...)")."""
  import numpy as np
  try:
    with np.load(path, allow_pickle=False) as stored:
      return {key: stored[key] for key in stored.files}
  except Exception as error:  # noqa: BLE001 - any unreadable file gets the same message
    raise DataError(f"{path}: cannot read as .npz ({error}); {how_to_save}", "unreadable") from error

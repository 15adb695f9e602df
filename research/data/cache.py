"""The one cache for expensive data preparation, keyed by a fingerprint of its settings.

    folder = cached_folder(cache_dir, "workout_synthetic", settings, build)   # build(folder) writes files
    arrays = cached_arrays(cache_dir, "keypoint_arrays", settings, build)     # build() -> {name: array}

An entry lives in `<cache_dir>/<kind>/<fingerprint>` (a folder, or a `.npz` of arrays): the
fingerprint is the SHA-256 of `settings` as canonical JSON, so `settings` must hold every input
of the preparation: its options, a version number of the code, and for files on disk a digest
of their bytes (`content_digest`). Entries are written under a temporary name and renamed, so
an interrupted build is never read. An empty `cache_dir` builds every time (folders then go to
a temporary folder removed when the process ends).

Plain folders and `.npz`, not a TFDS array_record dataset: measured on the shared 2-core CPU
(benchmarks/data_cache.py), cutting the workout windows from the recordings takes 0.3 s, reading
them back from array_record 3.4 s (building it 9 s); 60 MB of keypoint arrays build into
array_record in 11 s and read back in 1.1 s plus 1.0 s to import tensorflow_datasets, against a
0.2 s `.npz` write and a 1.3 s cache hit that includes hashing the 9,000 source files (parsing
them takes 4.9 s). HHT images are cached one entry per file (keyed by the file's bytes): one
image takes 0.4 s, a hit 6 ms, and a new or edited file recomputes only itself.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
import zipfile
from typing import Callable, Iterable

import numpy as np

_SETTINGS_FILE = "settings.json"
_temporary_root: pathlib.Path | None = None


def fingerprint(settings: dict) -> str:
  """SHA-256 (hex) of `settings` as canonical JSON (sorted keys; tuples as lists)."""
  text = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
  return hashlib.sha256(text.encode()).hexdigest()


def content_digest(paths: Iterable[pathlib.Path], root) -> str:
  """SHA-256 (hex) of the files' names relative to `root` and their bytes, in the given order."""
  root = pathlib.Path(root)
  digest = hashlib.sha256()
  for path in paths:
    path = pathlib.Path(path)
    digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
    if path.is_file():
      data = path.read_bytes()
      digest.update(f"{len(data)}\0".encode())
      digest.update(data)
    else:
      digest.update(b"<dir>\0")
  return digest.hexdigest()


def _entry(cache_dir, kind: str, settings: dict) -> pathlib.Path:
  return pathlib.Path(cache_dir).expanduser() / kind / fingerprint(settings)[:32]


def _temporary(kind: str) -> pathlib.Path:
  """A fresh folder under one per-process temporary root, removed at exit."""
  global _temporary_root
  if _temporary_root is None:
    _temporary_root = pathlib.Path(tempfile.mkdtemp(prefix="research-data-"))
    atexit.register(shutil.rmtree, _temporary_root, ignore_errors=True)
  return pathlib.Path(tempfile.mkdtemp(dir=_temporary_root, prefix=f"{kind}-"))


def cached_folder(cache_dir, kind: str, settings: dict, build: Callable[[pathlib.Path], object]
                  ) -> pathlib.Path:
  """The folder that `build(folder)` fills for `settings`, built once into the cache."""
  if not cache_dir:
    folder = _temporary(kind)
    build(folder)
    return folder
  entry = _entry(cache_dir, kind, settings)
  if (entry / _SETTINGS_FILE).is_file():
    return entry
  entry.parent.mkdir(parents=True, exist_ok=True)
  tmp = pathlib.Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}."))
  try:
    build(tmp)
    (tmp / _SETTINGS_FILE).write_text(json.dumps(settings, sort_keys=True, default=str, indent=1) + "\n")
    if entry.exists():  # left half-written by an interrupted run (no settings file)
      shutil.rmtree(entry, ignore_errors=True)
    try:
      os.replace(tmp, entry)
    except OSError:
      if not (entry / _SETTINGS_FILE).is_file():  # another process finishing first is fine
        raise
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  return entry


def cached_arrays(cache_dir, kind: str, settings: dict, build: Callable[[], dict[str, np.ndarray]]
                  ) -> dict[str, np.ndarray]:
  """The arrays `build()` returns for `settings`, stored once as an uncompressed `.npz`."""
  if not cache_dir:
    return build()
  entry = _entry(cache_dir, kind, settings).with_suffix(".npz")
  if entry.is_file():
    try:
      with np.load(entry, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # truncated or corrupt: rebuilt
      entry.unlink(missing_ok=True)
  arrays = build()
  entry.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.stem}.", suffix=".npz")
  try:
    with os.fdopen(fd, "wb") as f:
      np.savez(f, **arrays)
    os.replace(tmp, entry)
  finally:
    pathlib.Path(tmp).unlink(missing_ok=True)
  return arrays

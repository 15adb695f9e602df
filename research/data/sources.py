"""Where a loader's data come from: `config.data.path`, or default data generated once into the
data cache (`source(data_config, name)`), and the one cache for expensive data preparation.

    source(cfg, "workout")          # cfg.path, else the workout generator run with cfg.synthetic
    folder = cached_folder(cache_dir, "workout_synthetic", settings, build)   # build(folder) writes files
    arrays = cached_arrays(cache_dir, "keypoint_arrays", settings, build)     # build() -> {name: array}

An entry is the folder `<cache_dir>/<kind>/<fingerprint>`: the fingerprint is the SHA-256 of
`settings` as canonical JSON, so `settings` must hold every input of the preparation: its
options, a version number of the code, and for files on disk a digest of their bytes
(`content_digest`). Arrays are one uncompressed `arrays.npz` in it.

Trust. An entry is built in a private temporary folder beside it, `settings.json` and last the
manifest of its files' SHA-256 (research.data.cache_manifest) are written, and the folder is
renamed into place: an entry is complete or absent. Every read checks the files against the
manifest; an entry that differs (bytes overwritten, files missing or added, no manifest) is
rebuilt with a warning naming it and what differs. Every kind of entry is rebuildable:
generated default data from their generator, arrays derived from the user's files (keypoint
arrays, HHT images) from those files, whose bytes are part of the key. Checking costs one read
and hash of the entry: a hit of the default sign data (9,000 generated frame files, then 60 MB
of arrays keyed by the verified folder's manifest instead of a second digest of its files)
took 0.40-0.63 s against 0.83-0.90 s before manifests, the smoke data 11-20 ms against
18-25 ms; arrays of a user's 9,000-file folder 1.09-1.25 s against 1.0 s (shared 2-core CPU).

Concurrency. Builders of one entry race by rename: the first rename wins, a later one fails on
the existing folder, and its builder discards its own copy and uses the winner's once it
verifies. A complete entry is never replaced; only an entry that fails its check is moved
aside, under a lock file per kind (`<kind>/.lock`) and after checking it again, so two
processes that find the same bad entry do not remove each other's rebuilt one. Private
folders that a killed builder left behind are removed a day later, by the next build of that kind.

No cache. An empty `cache_dir` builds every time (folders then go to a temporary folder
removed when the process ends); a cache dir that cannot be written (read-only, no permission)
does the same after one warning naming it, and still serves the entries it holds.

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
import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import inspect
import json
import logging
import os
import pathlib
import shutil
import tempfile
import time
import uuid
from typing import Callable, Iterable

import numpy as np

from research.data import cache_manifest
from research.data.errors import DataError
from research.data.layouts import SIGN_ACTIONS
from research.data.synthetic import hht as synthetic_hht
from research.data.synthetic import keypoints as synthetic_keypoints
from research.data.synthetic import npz as synthetic_npz
from research.data.synthetic import semg as synthetic_semg
from research.data.synthetic import ts as synthetic_ts
from research.data.synthetic import workout as synthetic_workout

_SETTINGS_FILE = "settings.json"
_ARRAYS_FILE = "arrays.npz"
_LOCK_FILE = ".lock"
_UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
_ATTEMPTS = 3  # builds of one entry before giving up (each lost to an entry that then failed its check)
_STALE_S = 24 * 3600  # a private build or discarded folder this old was left by a killed process
_temporary_root: pathlib.Path | None = None
_warned_unwritable: set[str] = set()


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


def rebuild_advice(entry) -> str:
  """How to make the cache entry `entry` again."""
  return (f"delete the folder {entry} to rebuild it, or run with --config.data.cache_dir=\"\" "
          "to build without the cache")


def entry_problem(entry) -> str | None:
  """None when the cache entry folder `entry` matches its manifest; otherwise what is wrong."""
  entry = pathlib.Path(entry)
  if not entry.is_dir():
    return "is not a folder" if entry.exists() else "does not exist"
  return cache_manifest.problem(entry)


class _Unwritable(Exception):
  """The cache dir refused a write (read-only file system, no permission)."""


def _entry(cache_dir, kind: str, settings: dict) -> pathlib.Path:
  return pathlib.Path(cache_dir).expanduser() / kind / fingerprint(settings)[:32]


def _temporary(kind: str) -> pathlib.Path:
  """A fresh folder under one per-process temporary root, removed at exit."""
  global _temporary_root
  if _temporary_root is None:
    _temporary_root = pathlib.Path(tempfile.mkdtemp(prefix="research-data-"))
    atexit.register(shutil.rmtree, _temporary_root, ignore_errors=True)
  return pathlib.Path(tempfile.mkdtemp(dir=_temporary_root, prefix=f"{kind}-"))


@contextlib.contextmanager
def _writing():
  """Turns the cache dir's refusals to be written into `_Unwritable`; other errors pass."""
  try:
    yield
  except OSError as error:
    if error.errno in _UNWRITABLE:
      raise _Unwritable(error) from error
    raise


def _warn_unwritable(cache_dir, error: _Unwritable) -> None:
  cause = error.__cause__
  if str(cache_dir) not in _warned_unwritable:
    _warned_unwritable.add(str(cache_dir))
    logging.warning("data cache %s cannot be written (%s); building data into a temporary folder "
                    "without caching them. Make it writable, or point --config.data.cache_dir at a "
                    "writable folder (\"\" = no cache)", cache_dir, getattr(cause, "strerror", None) or cause)


@contextlib.contextmanager
def _kind_lock(kind_dir: pathlib.Path):
  """An exclusive lock on `<kind_dir>/.lock` (across processes and threads)."""
  with _writing():
    fd = os.open(kind_dir / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
  try:
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield
  finally:
    os.close(fd)


def _discard_if_bad(entry: pathlib.Path) -> bool:
  """Moves `entry` aside and removes it if, checked again under the lock, it is still bad: a
  builder that found the same bad entry may have replaced it with a good one meanwhile.
  True when that happened and `entry` is good now."""
  with _kind_lock(entry.parent):
    if not entry.exists():
      return False
    if entry_problem(entry) is None:
      return True
    aside = entry.with_name(f".{entry.name}.discarded-{uuid.uuid4().hex[:8]}")
    with _writing():
      os.rename(entry, aside)
  if aside.is_dir():
    shutil.rmtree(aside, ignore_errors=True)
  else:
    aside.unlink(missing_ok=True)
  return False


def _remove_stale(kind_dir: pathlib.Path) -> None:
  """Removes the private folders that processes killed while building or discarding left."""
  now = time.time()
  for path in kind_dir.glob(".*"):
    try:
      stale = (".building-" in path.name or ".discarded-" in path.name) and now - path.stat().st_mtime > _STALE_S
    except OSError:  # removed meanwhile by another process
      continue
    if stale:
      shutil.rmtree(path, ignore_errors=True)


def _verified_entry(entry: pathlib.Path, settings: dict, fill: Callable[[pathlib.Path], object]
                    ) -> pathlib.Path:
  """`entry` once it matches its manifest: as found, or built by `fill(folder)` in a private
  folder and renamed into place (or another builder's, when theirs was renamed in first)."""
  for _ in range(_ATTEMPTS):
    problem = entry_problem(entry)
    if problem is None:
      return entry
    if entry.exists():
      logging.warning("data cache entry %s %s; rebuilding it", entry, problem)
      if _discard_if_bad(entry):
        return entry
    with _writing():
      entry.parent.mkdir(parents=True, exist_ok=True)
      building = pathlib.Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}.building-"))
    _remove_stale(entry.parent)
    try:
      fill(building)
      (building / _SETTINGS_FILE).write_text(json.dumps(settings, sort_keys=True, default=str, indent=1) + "\n")
      cache_manifest.write(building)
      try:
        os.rename(building, entry)  # fails on the folder of a builder that finished first
        return entry
      except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
          raise
    finally:
      shutil.rmtree(building, ignore_errors=True)
  raise DataError(f"data cache entry {entry} failed its check after {_ATTEMPTS} builds "
                  f"({entry_problem(entry)}); {rebuild_advice(entry)}", "bad_cache")


def cached_folder(cache_dir, kind: str, settings: dict, build: Callable[[pathlib.Path], object]
                  ) -> pathlib.Path:
  """The folder that `build(folder)` fills for `settings`, built once into the cache."""
  if cache_dir:
    try:
      return _verified_entry(_entry(cache_dir, kind, settings), settings, build)
    except _Unwritable as error:
      _warn_unwritable(cache_dir, error)
  folder = _temporary(kind)
  build(folder)
  return folder


def cached_arrays(cache_dir, kind: str, settings: dict, build: Callable[[], dict[str, np.ndarray]]
                  ) -> dict[str, np.ndarray]:
  """The arrays `build()` returns for `settings`, stored once as an uncompressed `.npz`."""
  if not cache_dir:
    return build()
  built: dict[str, np.ndarray] = {}

  def fill(folder: pathlib.Path):
    if not built:  # once, however many times the entry is built
      built.update(build())
    with open(folder / _ARRAYS_FILE, "wb") as f:
      np.savez(f, **built)

  try:
    entry = _verified_entry(_entry(cache_dir, kind, settings), settings, fill)
  except _Unwritable as error:
    _warn_unwritable(cache_dir, error)
    return built or build()
  if built:  # built here; an entry another builder published first holds the same arrays
    return built
  try:
    with np.load(entry / _ARRAYS_FILE, allow_pickle=False) as stored:
      return {key: stored[key] for key in stored.files}
  except (OSError, ValueError, EOFError) as error:
    raise DataError(f"data cache entry {entry}: {_ARRAYS_FILE} matches its manifest but cannot be read "
                    f"({error}); {rebuild_advice(entry)}", "bad_cache") from error


# ----------------------------------------------------------------------------- default data


@dataclasses.dataclass(frozen=True)
class _Default:
  """How a data name makes its default data: `generator(folder, **options)` writes them; `shared`
  gives the options the data config holds for its reader too (frames, window, image size...);
  `entry(folder, options)` is what the reader takes (the folder itself, or a file in it)."""
  generator: Callable
  version: object
  shared: Callable = lambda cfg: {}
  entry: Callable = lambda folder, options: folder


DEFAULTS = {
    "ts": _Default(synthetic_ts.generate, synthetic_ts.VERSION),
    "npz": _Default(synthetic_npz.generate, synthetic_npz.VERSION,
                    entry=lambda folder, options: folder / options.get("name", "sequences.npz")),
    "keypoints": _Default(synthetic_keypoints.generate, synthetic_keypoints.VERSION,
                          shared=lambda cfg: {"actions": list(cfg.get("actions") or SIGN_ACTIONS),
                                              "frames": int(cfg.get("frames", 30)) or 30}),
    "workout": _Default(synthetic_workout.generate, synthetic_workout.VERSION),
    "semg": _Default(synthetic_semg.generate, synthetic_semg.VERSION,
                     shared=lambda cfg: {"layout": "npz", "window": int(cfg.window),
                                         "sampling_rate": float(cfg.sampling_rate)},
                     entry=lambda folder, options: folder / "semg.npz"),
    "hht_files": _Default(synthetic_hht.generate, synthetic_hht.VERSION,
                          shared=lambda cfg: {"image_size": int(cfg.image_size)}),
}


@dataclasses.dataclass(frozen=True)
class Source:
  """The data a loader reads: `path`, and the generator `options` when the data were generated
  (None for the user's own `config.data.path`); `cache_entry`: the data cache folder that holds
  generated data ("" when they were generated into a temporary folder)."""
  path: str
  options: dict | None = None
  cache_entry: str = ""

  @property
  def generated(self) -> bool:
    return self.options is not None

  @property
  def entry_identity(self) -> str:
    """A digest of every byte of the cache entry (verified when `source` returned it), cheaper
    than hashing its files again; "" without a cache entry."""
    return cache_manifest.identity(self.cache_entry) if self.cache_entry else ""


def _as_dict(value) -> dict:
  return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def source(cfg, name: str) -> Source:
  """`config.data.path` as given, or the default data of the data `name`: its generator
  (research.data.synthetic) run with the options of `config.data.synthetic` once into
  `config.data.cache_dir`, keyed by the generator, its version and the options."""
  if cfg.get("path"):
    return Source(str(cfg.path))
  default = DEFAULTS.get(name)
  synthetic = cfg.get("synthetic")
  accepted = set(inspect.signature(default.generator).parameters) - {"out_dir"} if default else set()
  unknown = sorted(set(synthetic.keys()) - accepted) if synthetic is not None else []
  if default is None or synthetic is None or unknown:
    why = (f"config.data.synthetic holds options the {name} generator does not take ({unknown})" if unknown
           else f"the {name} data have no generated default (config.data.synthetic)")
    raise DataError(f"config.data.path is empty and {why}; point --config.data.path at your data "
                    f"(e.g. --config.data.name=ts --config.data.path=/data/X/X_TRAIN.ts)", "missing_path")
  options = {**_as_dict(synthetic), **default.shared(cfg)}
  settings = {"generator": name, "version": default.version, "options": options}
  cache_dir = cfg.get("cache_dir", "")
  folder = cached_folder(cache_dir, f"{name}_synthetic", settings, lambda out: default.generator(str(out), **options))
  in_cache = bool(cache_dir) and folder == _entry(cache_dir, f"{name}_synthetic", settings)
  return Source(str(default.entry(folder, options)), options, str(folder) if in_cache else "")


@contextlib.contextmanager
def reading(data: Source):
  """Adds to a DataError raised while reading generated data that they came from the data
  cache, which entry, and how to build it again; the user's own data pass unchanged."""
  try:
    yield
  except DataError as error:
    if not data.cache_entry:
      raise
    raise type(error)(f"{error} [These data were generated into the data cache entry {data.cache_entry}, "
                      f"not given in config.data.path: {rebuild_advice(data.cache_entry)}.]",
                      error.reason) from error

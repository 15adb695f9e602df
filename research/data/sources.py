"""Where a loader's data come from: `config.data.path`, or default data generated once into the
data cache (`source(data_config, name)`), and the one cache for expensive data preparation.

    source(cfg, "workout")          # cfg.path, else the workout generator run with cfg.synthetic
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
import dataclasses
import hashlib
import inspect
import json
import os
import pathlib
import shutil
import tempfile
import zipfile
from typing import Callable, Iterable

import numpy as np

from research.data.errors import DataError
from research.data.layouts import SIGN_ACTIONS
from research.data.synthetic import hht as synthetic_hht
from research.data.synthetic import keypoints as synthetic_keypoints
from research.data.synthetic import npz as synthetic_npz
from research.data.synthetic import semg as synthetic_semg
from research.data.synthetic import ts as synthetic_ts
from research.data.synthetic import workout as synthetic_workout

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
  (None for the user's own `config.data.path`)."""
  path: str
  options: dict | None = None

  @property
  def generated(self) -> bool:
    return self.options is not None


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
  folder = cached_folder(cfg.get("cache_dir", ""), f"{name}_synthetic", settings,
                         lambda out: default.generator(str(out), **options))
  return Source(str(default.entry(pathlib.Path(folder), options)), options)

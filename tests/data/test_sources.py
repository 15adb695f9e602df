"""Data sources: the user's path as given, or generated default data built once per settings;
the cache read back equal, rebuilt on change, never half-written."""

from __future__ import annotations

import hashlib
import json
import pathlib

import ml_collections
import numpy as np
import pytest

from research.data import DataError
from research.data import defaults as data_defaults
from research.data import sources


def _arrays(seed):
  rng = np.random.default_rng(seed)
  return {"x": rng.normal(size=(40, 4, 3)).astype(np.float32), "y": rng.integers(0, 5, 40).astype(np.int32),
          "names": np.asarray(["a", "bb"]), "note": np.asarray(json.dumps({"k": [1, 2]}))}


def test_fingerprint_is_sha256_of_canonical_json():
  settings = {"b": [1, 2], "a": {"y": 1.5, "x": "s"}}
  expected = hashlib.sha256(b'{"a":{"x":"s","y":1.5},"b":[1,2]}').hexdigest()
  assert sources.fingerprint(settings) == expected
  assert sources.fingerprint({"a": {"x": "s", "y": 1.5}, "b": (1, 2)}) == expected  # order, tuple vs list


def test_cached_arrays_round_trip_and_rebuild(tmp_path):
  calls = []

  def build(seed):
    calls.append(seed)
    return _arrays(seed)

  first = sources.cached_arrays(tmp_path, "demo", {"v": 1}, lambda: build(0))
  again = sources.cached_arrays(tmp_path, "demo", {"v": 1}, lambda: build(0))
  assert calls == [0]
  for key, value in _arrays(0).items():
    np.testing.assert_array_equal(first[key], value)
    np.testing.assert_array_equal(again[key], value)
    assert again[key].dtype == value.dtype and again[key].shape == value.shape
  sources.cached_arrays(tmp_path, "demo", {"v": 2}, lambda: build(1))
  assert calls == [0, 1]
  entries = sorted((tmp_path / "demo").iterdir())
  assert len(entries) == 2 and all((entry / "arrays.npz").is_file() for entry in entries)  # no temporary left
  # A truncated entry is rebuilt, not read.
  entry = entries[0] / "arrays.npz"
  entry.write_bytes(entry.read_bytes()[:50])
  sources.cached_arrays(tmp_path, "demo", {"v": 1}, lambda: build(0))
  sources.cached_arrays(tmp_path, "demo", {"v": 2}, lambda: build(1))
  assert len(calls) == 3
  # No cache folder: built every time.
  sources.cached_arrays("", "demo", {"v": 1}, lambda: build(0))
  assert len(calls) == 4


def test_cached_folder_once_and_never_half_written(tmp_path):
  calls = []

  def build(folder):
    calls.append(folder)
    (folder / "data.txt").write_text("made")

  folder = sources.cached_folder(tmp_path, "gen", {"n": 3}, build)
  assert sources.cached_folder(tmp_path, "gen", {"n": 3}, build) == folder and len(calls) == 1
  assert (folder / "data.txt").read_text() == "made"
  assert json.loads((folder / "settings.json").read_text()) == {"n": 3}

  def broken(folder):
    (folder / "part.txt").write_text("half")
    raise KeyboardInterrupt

  with pytest.raises(KeyboardInterrupt):
    sources.cached_folder(tmp_path, "gen", {"n": 4}, broken)
  assert [p.name for p in (tmp_path / "gen").iterdir()] == [folder.name]  # no entry, no leftovers
  temporary = sources.cached_folder("", "gen", {"n": 3}, build)
  assert temporary != folder and (temporary / "data.txt").exists() and len(calls) == 2


def test_content_digest_sees_bytes_and_names(tmp_path):
  (tmp_path / "a").mkdir()
  (tmp_path / "a" / "0.npy").write_bytes(b"\x00\x01")
  (tmp_path / "a" / "1.npy").write_bytes(b"\x02")
  paths = lambda: sorted(tmp_path.rglob("*"))
  before = sources.content_digest(paths(), tmp_path)
  assert sources.content_digest(paths(), tmp_path) == before
  (tmp_path / "a" / "1.npy").write_bytes(b"\x03")
  changed = sources.content_digest(paths(), tmp_path)
  assert changed != before
  (tmp_path / "a" / "1.npy").rename(tmp_path / "a" / "2.npy")
  assert sources.content_digest(paths(), tmp_path) not in (before, changed)


def test_source_is_the_path_as_given():
  cfg = data_defaults.ts_data()
  cfg.path = "/data/X/X_TRAIN.ts"  # need not exist: the reader says what is wrong with it
  assert sources.source(cfg, cfg.name) == sources.Source("/data/X/X_TRAIN.ts")
  assert not sources.source(cfg, cfg.name).generated


def test_source_generates_the_default_data_once(tmp_path):
  cfg = data_defaults.semg_data()
  cfg.update({"cache_dir": str(tmp_path), "window": 32})
  cfg.synthetic.update({"num_classes": 2, "windows_per_class": 2, "subjects": 1})
  first = sources.source(cfg, cfg.name)
  assert first.generated and first.options["window"] == 32 and first.options["windows_per_class"] == 2
  path = pathlib.Path(first.path)
  assert path.name == "semg.npz" and path.is_file()  # the file the reader takes, not the folder
  stamp = path.stat().st_mtime_ns
  assert sources.source(cfg, cfg.name) == first and path.stat().st_mtime_ns == stamp  # read back, not rebuilt
  cfg.synthetic.seed = 1
  assert sources.source(cfg, cfg.name).path != first.path  # other options, other entry


def test_source_refuses_options_its_generator_does_not_take(tmp_path):
  cfg = data_defaults.ts_data()
  cfg.update({"name": "npz", "cache_dir": str(tmp_path)})  # ts options under an npz name
  with pytest.raises(DataError, match=r"config\.data\.path is empty.*\['dims'"):
    sources.source(cfg, cfg.name)
  mixture = ml_collections.ConfigDict({"path": ""})
  with pytest.raises(DataError, match="no generated default"):
    sources.source(mixture, "mixture")

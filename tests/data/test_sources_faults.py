"""The data cache under faults: corrupted entries are found and rebuilt, concurrent builders of
one entry both succeed and share it, an unwritable cache builds without caching, and errors
about cached data name the entry and how to rebuild it."""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import pathlib
import subprocess
import sys
import threading

import ml_collections
import numpy as np
import pytest

from research.data import DataError
from research.data import loaders
from research.data import sources
from research.data.layouts import SIGN_ACTIONS


def _keypoint_config(cache_dir) -> ml_collections.ConfigDict:
  """The sign data at a tiny size: 2 signs x 10 sequences x 5 frames, generated into `cache_dir`."""
  return ml_collections.ConfigDict({
      "name": "keypoints", "path": "", "cache_dir": str(cache_dir), "actions": SIGN_ACTIONS[:2], "frames": 5,
      "test_fraction": 0.2, "val_fraction": 0.25, "synthetic": {"sequences": 10, "seed": 0, "noise_only": 0}})


def _read_keypoints(cfg):
  """(source, x, y, class names) of the keypoint loader; x and y of all splits, in split order."""
  data = loaders.load_keypoints(cfg, 0)
  source = sources.source(cfg, "keypoints")  # a cache hit: the folder the loader read
  parts = (data.train, data.val, data.test)
  return (source, np.concatenate([p["x"] for p in parts]), np.concatenate([p["y"] for p in parts]),
          data.meta["class_names"])


def _overwrite(path: pathlib.Path, offset: int, count: int):
  """Overwrites `count` bytes of `path` at `offset` with other bytes, keeping its size."""
  data = bytearray(path.read_bytes())
  count = min(count, len(data) - offset)
  data[offset:offset + count] = bytes((b + 1) % 256 for b in data[offset:offset + count])
  path.write_bytes(bytes(data))


def _warnings(caplog) -> list[str]:
  return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _entries(folder: pathlib.Path) -> list[str]:
  return sorted(p.name for p in folder.iterdir())


# ----------------------------------------------------------------------------- corruption


def test_corrupted_generated_frame_is_rebuilt_with_a_warning(tmp_path, caplog):
  cfg = _keypoint_config(tmp_path)
  source, x, y, names = _read_keypoints(cfg)
  entry = pathlib.Path(source.path)
  frame = entry / names[0] / "0" / "2.npy"
  _overwrite(frame, 200, 4000)  # inside the frame's values: still a valid .npy of the right shape
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    again_source, again_x, again_y, _ = _read_keypoints(cfg)
  assert again_source.path == source.path
  warned = [m for m in _warnings(caplog) if str(entry) in m]
  assert warned, f"no warning naming {entry}: {_warnings(caplog)}"
  assert "rebuil" in warned[0] and f"{names[0]}/0/2.npy" in warned[0]
  np.testing.assert_array_equal(again_x, x)
  np.testing.assert_array_equal(again_y, y)
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    _read_keypoints(cfg)
  assert not _warnings(caplog)  # rebuilt once, then a plain hit


def test_extra_or_missing_files_in_a_generated_folder_are_rebuilt(tmp_path, caplog):
  cfg = _keypoint_config(tmp_path)
  source, x, _, names = _read_keypoints(cfg)
  entry = pathlib.Path(source.path)
  (entry / names[1] / "0" / "4.npy").unlink()
  (entry / names[0] / "99").mkdir()
  np.save(entry / names[0] / "99" / "0.npy", np.zeros(1662, np.float32))
  with caplog.at_level(logging.WARNING):
    _, again_x, _, _ = _read_keypoints(cfg)
  assert any(str(entry) in m for m in _warnings(caplog))
  np.testing.assert_array_equal(again_x, x)
  assert not (entry / names[0] / "99").exists()


@pytest.mark.parametrize("damage", ["bytes", "swapped"])
def test_corrupted_cached_arrays_are_rebuilt_with_a_warning(tmp_path, caplog, damage):
  calls = []

  def build(seed):
    calls.append(seed)
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(64, 32)).astype(np.float32), "y": np.arange(64, dtype=np.int32)}

  first = sources.cached_arrays(tmp_path, "demo", {"v": 1}, lambda: build(0))
  stored = sorted((tmp_path / "demo").rglob("*.npz"))
  assert len(stored) == 1
  if damage == "bytes":
    _overwrite(stored[0], 1000, 4000)
  else:  # a valid .npz of other arrays in its place: zip checksums cannot tell
    with open(stored[0], "wb") as f:
      np.savez(f, **build(1))
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    again = sources.cached_arrays(tmp_path, "demo", {"v": 1}, lambda: build(0))
  assert calls[-1] == 0 and len(calls) == (2 if damage == "bytes" else 3)
  entry = stored[0].parent if stored[0].parent.name != "demo" else stored[0]
  assert any(entry.name in m and "rebuil" in m for m in _warnings(caplog)), _warnings(caplog)
  for key in first:
    np.testing.assert_array_equal(again[key], first[key])
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    read_back = sources.cached_arrays(tmp_path, "demo", {"v": 1}, lambda: build(0))
  assert not _warnings(caplog) and len(calls) == (2 if damage == "bytes" else 3)
  np.testing.assert_array_equal(read_back["x"], first["x"])


def test_an_entry_without_a_manifest_is_rebuilt(tmp_path, caplog):
  """An entry that was never finished (or copied in by hand) is not trusted."""
  folder = sources.cached_folder(tmp_path, "gen", {"n": 1}, lambda f: (f / "data.txt").write_text("made"))
  (folder / sources.cache_manifest.FILE).unlink()
  (folder / "data.txt").write_text("other")
  with caplog.at_level(logging.WARNING):
    again = sources.cached_folder(tmp_path, "gen", {"n": 1}, lambda f: (f / "data.txt").write_text("made"))
  assert again == folder and (folder / "data.txt").read_text() == "made"
  assert any(str(folder) in m for m in _warnings(caplog))


# ----------------------------------------------------------------------------- concurrency


def test_concurrent_builders_of_one_entry_both_succeed_and_share_it(tmp_path):
  """Both builds are under way at once; the first to finish publishes, the second discards
  its own copy and uses the first's, which is never replaced while in use."""
  both_building = threading.Barrier(2, timeout=30)
  first_done = threading.Event()
  results, errors = {}, []

  def build(folder):
    both_building.wait()
    if threading.current_thread().name == "second":
      assert first_done.wait(30)
    for i in range(200):
      (folder / f"{i}.txt").write_text(str(i))

  def run(name):
    try:
      folder = sources.cached_folder(tmp_path, "gen", {"n": 1}, build)
      results[name] = (folder, os.stat(folder).st_ino)
      if name == "first":
        first_done.set()
    except BaseException as error:  # noqa: BLE001 - reported by the test
      errors.append(error)
      first_done.set()

  threads = [threading.Thread(target=run, args=(name,), name=name) for name in ("first", "second")]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join(60)
  assert not errors, errors
  (first, first_inode), (second, _) = results["first"], results["second"]
  assert first == second
  assert os.stat(first).st_ino == first_inode  # the first's completed entry was never replaced
  assert _entries(tmp_path / "gen") == [first.name]  # one entry, no temporary folders left
  assert sorted(p.name for p in first.glob("*.txt")) == sorted(f"{i}.txt" for i in range(200))
  assert sources.entry_problem(first) is None


def test_concurrent_rebuilders_of_a_corrupted_entry_keep_one_good_entry(tmp_path, caplog):
  """Two builders find the same corrupted entry: one moves it aside, neither removes the
  other's rebuilt entry, both end with the same good one."""
  def made(folder):
    (folder / "data.txt").write_text("made")

  entry = sources.cached_folder(tmp_path, "gen", {"n": 1}, made)
  (entry / "data.txt").write_text("damaged")
  both_building = threading.Barrier(2, timeout=30)
  first_done = threading.Event()
  results, errors = {}, []

  def rebuild(folder):
    both_building.wait()
    if threading.current_thread().name == "second":
      assert first_done.wait(30)
    made(folder)

  def run(name):
    try:
      folder = sources.cached_folder(tmp_path, "gen", {"n": 1}, rebuild)
      results[name] = (folder, os.stat(folder).st_ino, (folder / "data.txt").read_text())
    except BaseException as error:  # noqa: BLE001 - reported by the test
      errors.append(error)
    finally:
      if name == "first":
        first_done.set()

  with caplog.at_level(logging.WARNING):
    threads = [threading.Thread(target=run, args=(name,), name=name) for name in ("first", "second")]
    for thread in threads:
      thread.start()
    for thread in threads:
      thread.join(60)
  assert not errors, errors
  assert results["first"] == results["second"] == (entry, os.stat(entry).st_ino, "made")
  assert sources.entry_problem(entry) is None
  assert [name for name in _entries(tmp_path / "gen") if not name.startswith(".lock")] == [entry.name]
  assert any(str(entry) in m and "data.txt" in m for m in _warnings(caplog))


def test_concurrent_array_builders_both_succeed(tmp_path):
  both_building = threading.Barrier(2, timeout=30)
  results, errors = [], []

  def build():
    both_building.wait()
    return {"x": np.arange(1000, dtype=np.float32)}

  def run():
    try:
      results.append(sources.cached_arrays(tmp_path, "demo", {"v": 1}, build)["x"])
    except BaseException as error:  # noqa: BLE001 - reported by the test
      errors.append(error)

  threads = [threading.Thread(target=run) for _ in range(2)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join(60)
  assert not errors and len(results) == 2
  for x in results:
    np.testing.assert_array_equal(x, np.arange(1000, dtype=np.float32))
  assert len(_entries(tmp_path / "demo")) == 1
  assert sources.entry_problem(tmp_path / "demo" / _entries(tmp_path / "demo")[0]) is None


def test_folders_left_by_killed_builders_are_removed_a_day_later(tmp_path):
  kind = tmp_path / "gen"
  old, recent = kind / ".abc.building-1", kind / ".abc.building-2"
  for folder in (old, recent):
    folder.mkdir(parents=True)
    (folder / "part.txt").write_text("half")
  day_ago = os.stat(old).st_mtime - 25 * 3600
  os.utime(old, (day_ago, day_ago))
  entry = sources.cached_folder(tmp_path, "gen", {"n": 1}, lambda f: (f / "data.txt").write_text("made"))
  assert _entries(kind) == sorted([recent.name, entry.name])  # a recent one may still be building


_BUILD_AND_READ = """
import sys, numpy as np
sys.path.insert(0, sys.argv[2])  # this test file's folder
from test_sources_faults import _keypoint_config, _read_keypoints
_, x, y, _ = _read_keypoints(_keypoint_config(sys.argv[1]))
print(x.shape, float(np.abs(x).sum()))
"""


@pytest.mark.slow
def test_two_processes_generate_the_same_data_at_once(tmp_path):
  root = pathlib.Path(__file__).resolve().parents[2]
  env = {**os.environ, "PYTHONPATH": str(root)}
  processes = [subprocess.Popen([sys.executable, "-c", _BUILD_AND_READ, str(tmp_path), str(pathlib.Path(__file__).parent)], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
  outputs = [p.communicate(timeout=300) for p in processes]
  for process, (out, err) in zip(processes, outputs):
    assert process.returncode == 0, err
  assert outputs[0][0] == outputs[1][0]
  generated = tmp_path / "keypoints_synthetic"
  assert len(_entries(generated)) == 1 and sources.entry_problem(generated / _entries(generated)[0]) is None


# ----------------------------------------------------------------------------- unwritable cache


@pytest.fixture
def read_only(tmp_path, monkeypatch):
  """A read-only cache folder. chmod 0o555 stops writes for other users; root writes anyway, so
  for root, creating a folder under it raises EROFS as a read-only mount would."""
  folder = tmp_path / "read_only_cache"
  folder.mkdir()
  folder.chmod(0o555)
  if os.geteuid() == 0:
    mkdir = os.mkdir

    def refuse_inside(path, *args, **kwargs):
      if pathlib.Path(path).resolve().is_relative_to(folder.resolve()):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
      return mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse_inside)
  yield folder
  folder.chmod(0o755)


def test_read_only_cache_builds_without_caching_with_one_warning(read_only, caplog):
  cfg = _keypoint_config(read_only)
  with caplog.at_level(logging.WARNING):
    source, x, y, names = _read_keypoints(cfg)
    again_source, again_x, _, _ = _read_keypoints(cfg)
  warned = _warnings(caplog)
  assert len(warned) == 1 and str(read_only) in warned[0], warned
  assert x.shape == (20, 5, 1662) and names == list(SIGN_ACTIONS[:2])
  np.testing.assert_array_equal(again_x, x)
  assert not pathlib.Path(source.path).is_relative_to(read_only)
  assert _entries(read_only) == []
  no_cache, no_cache_x, _, _ = _read_keypoints(_keypoint_config(""))
  np.testing.assert_array_equal(no_cache_x, x)


def test_read_only_cache_still_serves_its_entries(tmp_path, caplog, monkeypatch):
  folder = sources.cached_folder(tmp_path, "gen", {"n": 1}, lambda f: (f / "data.txt").write_text("made"))
  monkeypatch.setattr(os, "mkdir", lambda *a, **k: (_ for _ in ()).throw(PermissionError(errno.EACCES, "no")))
  with caplog.at_level(logging.WARNING):
    assert sources.cached_folder(tmp_path, "gen", {"n": 1}, lambda f: 1 / 0) == folder
  assert not _warnings(caplog)


# ----------------------------------------------------------------------------- error messages


def test_errors_about_generated_data_name_the_entry_and_the_way_to_rebuild(tmp_path, monkeypatch):
  """A generator that leaves a sign out: the reader's error points at the cache entry."""
  default = sources.DEFAULTS["keypoints"]

  def one_sign_only(out_dir, actions, sequences, frames, seed, noise_only):
    return default.generator(out_dir, actions=actions[:1], sequences=sequences, frames=frames, seed=seed,
                             noise_only=noise_only)

  monkeypatch.setitem(sources.DEFAULTS, "keypoints", dataclasses.replace(default, generator=one_sign_only))
  cfg = _keypoint_config(tmp_path)
  with pytest.raises(DataError) as raised:
    loaders.load_keypoints(cfg, 0)
  message = str(raised.value)
  entry = pathlib.Path(sources.source(cfg, "keypoints").path)
  assert f"{SIGN_ACTIONS[1]!r} has no folder" in message
  assert str(entry) in message and "delete" in message and 'cache_dir=""' in message
  assert raised.value.reason == "empty_class"

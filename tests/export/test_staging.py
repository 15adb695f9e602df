"""An export replaces the previous one whole or not at all.

A tiny run (a linear classifier over (8, 2) windows) stands in for a trained workdir:
pipeline.export reads it back through `load_exportable` and `load_dataset`, which the
tests replace, so every test converts only small graphs. A Ctrl-C, SIGTERM or a full disk
in the middle of an export must leave the previous export (model files, labels.json,
export.json) byte for byte, and no staging folder; the launcher says so in one line.
"""

from __future__ import annotations

import errno
import os
import pathlib
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from research import workdir as workdir_lib
from research.errors import ResearchError

ROOT = pathlib.Path(__file__).resolve().parents[2]
FAST = {"parity_examples": 8, "calibration_examples": 8, "latency_repeats": 1, "tflm": False}

pytestmark = pytest.mark.export


def use_tiny_run(setattr_) -> None:
  """Makes pipeline.export read a tiny linear classifier and its data, whatever the workdir."""
  pytest.importorskip("tensorflow")
  import research.data
  from research.data.dataset import Dataset
  from research.export import pipeline
  from research.export.tflite.exportable import Exportable

  rng = np.random.default_rng(0)
  weights = rng.normal(size=(16, 3)).astype(np.float32)
  x = rng.normal(size=(24, 8, 2)).astype(np.float32)
  y = (x.reshape(24, -1) @ weights).argmax(-1).astype(np.int32)
  split = {"x": x, "y": y}
  meta = {"class_names": ["a", "b", "c"], "model": "tiny"}
  dataset = Dataset(train=split, val=split, test=split, meta=meta)

  def fn(x_BTC):
    return {"probs": jax.nn.softmax(x_BTC.reshape(x_BTC.shape[0], -1) @ weights, -1)}

  exportable = Exportable(fn=fn, variables={"w": weights}, meta=meta, config=None, notes=[])
  setattr_(pipeline, "load_exportable", lambda workdir: exportable)
  setattr_(research.data, "load_dataset", lambda config: dataset)


def fail_at_first_parity(setattr_, failure) -> None:
  """Calls `failure()` when the first model file has been written (its parity check starts)."""
  from research.export.tflite import parity
  setattr_(parity, "run", lambda *args, **kwargs: failure())


def fail_writing(setattr_, name: str, error: OSError) -> None:
  """Raises `error` when the export writes the file `name` (a model file or a JSON record)."""
  write_atomic, write_bytes = workdir_lib.write_bytes_atomic, pathlib.Path.write_bytes

  def failing_atomic(path, blob):
    if pathlib.Path(path).name == name:
      raise error
    write_atomic(path, blob)

  def failing_write_bytes(path, blob):
    if path.name == name:
      raise error
    return write_bytes(path, blob)

  setattr_(workdir_lib, "write_bytes_atomic", failing_atomic)
  setattr_(pathlib.Path, "write_bytes", failing_write_bytes)


def snapshot(folder: pathlib.Path) -> dict[str, bytes]:
  """Every file in `folder` (recursively, staging folders included) with its bytes."""
  return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def previous_export(monkeypatch, workdir: pathlib.Path) -> dict[str, bytes]:
  """A float16 export in `workdir` (so a later fp32 model.tflite differs from it); its snapshot."""
  from research.export import pipeline
  use_tiny_run(monkeypatch.setattr)
  workdir.mkdir(exist_ok=True)
  pipeline.export(workdir, modes=("float16",), **FAST)
  files = snapshot(workdir)
  assert {"model.tflite", "labels.json", "export.json"} <= set(files)
  return files


def ctrl_c():
  raise KeyboardInterrupt


def send(number: int):
  def failure():
    os.kill(os.getpid(), number)
    raise AssertionError("the signal did not stop the export")
  return failure


@pytest.mark.parametrize("failure", [ctrl_c, send(signal.SIGINT)], ids=["KeyboardInterrupt", "SIGINT"])
def test_ctrl_c_after_the_first_model_keeps_the_previous_export(monkeypatch, tmp_path, failure):
  from research.export import pipeline
  before = previous_export(monkeypatch, tmp_path)
  fail_at_first_parity(monkeypatch.setattr, failure)
  with pytest.raises(KeyboardInterrupt) as caught:
    pipeline.export(tmp_path, modes=("none", "float16"), **FAST)
  assert snapshot(tmp_path) == before
  assert str(caught.value) == f"export interrupted (SIGINT): the previous export in {tmp_path} is unchanged"
  assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the export's handler is gone


def test_a_signal_whose_exception_a_library_swallows_still_stops_the_export(monkeypatch, tmp_path):
  """Python drops exceptions raised in gc callbacks and __del__ (seen with jax's gc callback)."""
  from research.export import pipeline
  from research.export.tflite import parity
  before = previous_export(monkeypatch, tmp_path)
  run = parity.run

  def swallowing_run(*args, **kwargs):
    try:
      os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt:
      pass
    return run(*args, **kwargs)

  monkeypatch.setattr(parity, "run", swallowing_run)
  with pytest.raises(KeyboardInterrupt) as caught:
    pipeline.export(tmp_path, modes=("none", "float16"), **FAST)
  assert str(caught.value) == f"export interrupted (SIGINT): the previous export in {tmp_path} is unchanged"
  assert snapshot(tmp_path) == before


def test_a_first_export_interrupted_leaves_no_export(monkeypatch, tmp_path):
  from research.export import pipeline
  use_tiny_run(monkeypatch.setattr)
  (tmp_path / "report.json").write_text("{}")
  fail_at_first_parity(monkeypatch.setattr, ctrl_c)
  with pytest.raises(KeyboardInterrupt) as caught:
    pipeline.export(tmp_path, modes=("none",), **FAST)
  assert str(caught.value) == f"export interrupted (SIGINT): {tmp_path} holds no export, as before"
  assert list(snapshot(tmp_path)) == ["report.json"]


def test_a_signal_while_the_files_move_into_place_waits_for_the_last_rename(monkeypatch, tmp_path):
  import json
  from research.export import pipeline
  previous_export(monkeypatch, tmp_path)
  replace = os.replace

  def signalled_replace(source, target):
    if pathlib.Path(target).parent == tmp_path:  # a staged file moving into place (not one written in staging)
      os.kill(os.getpid(), signal.SIGTERM)
    replace(source, target)

  monkeypatch.setattr(os, "replace", signalled_replace)
  with pytest.raises(KeyboardInterrupt) as caught:
    pipeline.export(tmp_path, modes=("none", "float16"), **FAST)
  assert str(caught.value) == f"export interrupted (SIGTERM) as it finished: {tmp_path} holds the new export, whole"
  record = json.loads((tmp_path / "export.json").read_text())
  assert [row["quantize"] for row in record["exports"]] == ["none", "float16"]
  for row in record["exports"]:
    assert (tmp_path / row["file"]).stat().st_size == row["tflite_bytes"]
  assert not list(tmp_path.glob(".export-tmp-*"))


@pytest.mark.parametrize("name", ["model.float16.tflite", "export.json"])
def test_a_full_disk_keeps_the_previous_export(monkeypatch, tmp_path, name):
  from research.export import pipeline
  before = previous_export(monkeypatch, tmp_path)
  fail_writing(monkeypatch.setattr, name, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
  with pytest.raises((OSError, ResearchError)) as caught:
    pipeline.export(tmp_path, modes=("none", "float16"), **FAST)
  assert snapshot(tmp_path) == before
  assert isinstance(caught.value, ResearchError), caught.value  # the launcher prints it as one line
  assert str(caught.value) == (f"export failed: {tmp_path}: No space left on device; "
                               f"the previous export in {tmp_path} is unchanged")


def test_a_read_only_workdir_is_one_error_naming_it(monkeypatch, tmp_path):
  import tempfile
  from research.export import pipeline
  before = previous_export(monkeypatch, tmp_path)

  def read_only(*args, dir=None, **kwargs):
    raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))

  monkeypatch.setattr(tempfile, "mkdtemp", read_only)
  with pytest.raises(ResearchError) as caught:
    pipeline.export(tmp_path, modes=("none",), **FAST)
  assert str(caught.value) == (f"export failed: {tmp_path}: Read-only file system; "
                               f"the previous export in {tmp_path} is unchanged")
  assert snapshot(tmp_path) == before


def test_an_export_replaces_the_previous_one_and_its_leftovers(monkeypatch, tmp_path):
  """A killed export's staging folder is removed; model files the new export.json does not name go."""
  import json
  from research.export import pipeline
  use_tiny_run(monkeypatch.setattr)
  pipeline.export(tmp_path, modes=("none", "float16"), **FAST)
  (tmp_path / ".export-tmp-killed").mkdir()
  (tmp_path / ".export-tmp-killed" / "model.tflite").write_bytes(b"half")
  (tmp_path / "report.json").write_text("{}")  # the run's own files stay
  record = pipeline.export(tmp_path, modes=("float16",), **FAST).record
  assert sorted(snapshot(tmp_path)) == ["export.json", "labels.json", "model.tflite", "report.json"]
  assert json.loads((tmp_path / "export.json").read_text()) == json.loads(json.dumps(workdir_lib.jsonable(record)))
  assert (tmp_path / "model.tflite").stat().st_size == record["exports"][0]["tflite_bytes"]


LAUNCH = """
import os, runpy, signal, sys
sys.path.insert(0, {tests!r})
import test_staging as t
failure = sys.argv.pop(1)
if failure == "ENOSPC":
  import errno
  t.fail_writing(setattr, "export.json", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
else:
  t.fail_at_first_parity(setattr, t.send(getattr(signal, failure)))
t.use_tiny_run(setattr)
sys.argv[0] = {launcher!r}
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize("failure, code, message", [
    pytest.param("SIGTERM", 128 + signal.SIGTERM, "export interrupted (SIGTERM): the previous export in {} is "
                 "unchanged", marks=pytest.mark.slow),
    pytest.param("ENOSPC", 1, "error: export failed: {}: No space left on device; the previous export in {} "
                 "is unchanged", marks=pytest.mark.slow),
])
def test_the_launcher_reports_an_interrupted_or_failed_export_in_one_line(monkeypatch, tmp_path, failure,
                                                                          code, message):
  before = previous_export(monkeypatch, tmp_path)
  script = LAUNCH.format(tests=str(pathlib.Path(__file__).parent), launcher=str(ROOT / "launch" / "export.py"))
  env = {**os.environ, "PYTHONPATH": str(ROOT)}
  done = subprocess.run([sys.executable, "-c", script, failure, "--workdir", str(tmp_path), "--quantize",
                         "none,float16", "--parity_examples=8", "--calibration_examples=8", "--notflm"],
                        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert done.returncode == code, done.stderr
  assert done.stderr.strip().splitlines()[-1] == message.format(tmp_path, tmp_path), done.stderr
  assert "Traceback" not in done.stderr and "checkpoint" not in done.stderr
  assert snapshot(tmp_path) == before

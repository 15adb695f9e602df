"""Faults of time and the file system: two writers, readers during a training, a changed optimizer on
resume, a full disk, a read-only workdir. Each ends in one clear line and loses no trained epoch."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

from research import cli
from research import config_file
from research import workdir as workdir_lib
from research import workdir_lock
from research.data import load_dataset
from research.train import checkpoint, fit, load_run, report

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def tiny_config(epochs, **optim):
  config = config_file.load(str(ROOT / "configs" / "lstm_filter.py") + ":smoke")
  config.data.duration = 0.2
  config.model.hidden_sizes = (4, 4)
  config.train.epochs = epochs
  config.optim.update(optim)
  return config


@pytest.fixture(scope="module")
def dataset():
  return load_dataset(tiny_config(1))


def _tree_hash(folder: pathlib.Path) -> dict[str, str]:
  return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(folder.rglob("*")) if p.is_file()}


class Holder:
  """Another process holding a workdir's lock, as a running training does."""

  def __init__(self, folder):
    code = ("import sys; from research import workdir_lock\n"
            "with workdir_lock.hold(sys.argv[1]):\n  print('held', flush=True); sys.stdin.read()")
    self.process = subprocess.Popen([sys.executable, "-c", code, str(folder)], cwd=ROOT, env=ENV,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert self.process.stdout.readline().strip() == "held"

  def __enter__(self):
    return self.process

  def __exit__(self, *exc):
    self.process.stdin.close()
    self.process.wait(timeout=60)


@pytest.mark.slow  # a lock-holding trainer in another process
def test_a_second_training_is_refused_naming_the_holder_and_nothing_is_lost(tmp_path, dataset):
  fit(tiny_config(1), dataset, tmp_path)
  before = _tree_hash(tmp_path / "checkpoints")
  with Holder(tmp_path) as holder:
    assert workdir_lock.holder(tmp_path).pid == holder.pid
    with pytest.raises(workdir_lock.WorkdirBusyError, match=f"being written by process {holder.pid} on .* "
                       "started .*-c.* One workdir has one writer"):
      fit(tiny_config(2), dataset, tmp_path)
  assert _tree_hash(tmp_path / "checkpoints") == before
  assert workdir_lock.holder(tmp_path) is None  # released with its process
  fit(tiny_config(2), dataset, tmp_path)  # the lock is free again: resumes after epoch 1
  assert [row["epoch"] for row in load_run(tmp_path).history] == [1, 2]


def test_a_dead_holders_record_is_taken_over_with_a_note(tmp_path, capsys):
  (tmp_path / workdir_lock.LOCK).write_text(json.dumps(
      {"pid": 2 ** 22 + 7, "host": os.uname().nodename, "started": "then", "command": "python launch/train.py"}))
  with workdir_lock.hold(tmp_path):
    assert json.loads((tmp_path / workdir_lock.LOCK).read_text())["pid"] == os.getpid()
  out = capsys.readouterr().out
  assert "taking over the lock" in out and "no longer running" in out
  assert (tmp_path / workdir_lock.LOCK).read_text() == ""  # released cleanly: no record left


@pytest.mark.slow  # a lock-holding trainer in another process
def test_evaluate_during_a_training_reads_the_newest_committed_step_and_writes_nothing(tmp_path, dataset):
  fit(tiny_config(2), dataset, tmp_path)
  steps = tmp_path / "checkpoints"
  # A save in progress: Orbax's temporary folder and a step not yet committed (no sha256.json).
  (steps / "3.orbax-checkpoint-tmp-1").mkdir()
  (steps / "3").mkdir()
  (steps / "3" / "half").write_bytes(b"\0" * 10)
  before = _tree_hash(tmp_path)
  with Holder(tmp_path):
    done = subprocess.run([sys.executable, "launch/evaluate.py", f"--workdir={tmp_path}"], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr
  assert "Regression report" in done.stdout and "Traceback" not in done.stderr
  assert "is being trained by process" in done.stderr and "without writing report.md" in done.stderr
  assert _tree_hash(tmp_path) == before, "evaluate changed the trainer's files"
  assert (steps / "3").is_dir() and not (steps / "3.broken").exists()


def test_a_changed_optimizer_on_resume_is_refused_and_nothing_moves(tmp_path, dataset):
  fit(tiny_config(2), dataset, tmp_path)
  before = _tree_hash(tmp_path)
  with pytest.raises(workdir_lib.WorkdirError, match=r"config.optim.name: 'adam' -> 'sgd'.* new --workdir"):
    fit(tiny_config(3, name="sgd", momentum=0.9), dataset, tmp_path)
  with pytest.raises(workdir_lib.WorkdirError, match=r"config.optim.clip_norm: 1.0 -> 0.0"):
    fit(tiny_config(3, clip_norm=0.0), dataset, tmp_path)  # the clipping stage would vanish
  after = _tree_hash(tmp_path)
  assert {k: v for k, v in after.items() if not k.startswith("tensorboard")} == \
      {k: v for k, v in before.items() if not k.startswith("tensorboard")}
  fit(tiny_config(3, lr=5e-4), dataset, tmp_path)  # a field that may change: resumes after epoch 2
  assert [row["epoch"] for row in load_run(tmp_path).history] == [1, 2, 3]


def test_an_edited_model_in_config_json_is_not_called_broken(tmp_path, dataset):
  fit(tiny_config(1), dataset, tmp_path)
  config = json.loads((tmp_path / "config.json").read_text())
  config["model"]["hidden_sizes"] = [8, 8]
  (tmp_path / "config.json").write_text(json.dumps(config))
  with pytest.raises(Exception, match="is intact but does not fit .*was it edited") as info:
    load_run(tmp_path)
  assert "Remove that folder" not in str(info.value)
  assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["1"]


def _one_line(error: BaseException) -> str:
  message = cli._message(error)
  assert "\n" not in message and "Traceback" not in message
  return message


def test_disk_full_during_a_save_keeps_the_last_good_step(tmp_path, dataset, monkeypatch):
  fit(tiny_config(1), dataset, tmp_path)
  import orbax.checkpoint as ocp
  save = ocp.CheckpointManager.save

  def full(self, step, *args, **kwargs):  # Orbax fails half-way through writing step 2's arrays
    if step == 2:
      partial = pathlib.Path(self.directory) / "2.orbax-checkpoint-tmp-1234"
      (partial / "state").mkdir(parents=True)
      (partial / "state" / "part").write_bytes(b"\0" * 100)
      raise OSError(errno.ENOSPC, "No space left on device", str(partial / "state" / "part"))
    return save(self, step, *args, **kwargs)
  monkeypatch.setattr(ocp.CheckpointManager, "save", full)
  with pytest.raises(checkpoint.CheckpointSaveError) as info:
    fit(tiny_config(2), dataset, tmp_path)
  message = _one_line(info.value)
  assert "No space left on device" in message and "last good checkpoint (epoch 1) is kept" in message
  assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["1"]  # the partial save removed
  assert checkpoint.problem(checkpoint.manager(tmp_path / "checkpoints", "val_loss", "min"), 1) is None
  monkeypatch.undo()
  fit(tiny_config(2), dataset, tmp_path)  # space again: the same command resumes after epoch 1
  assert [row["epoch"] for row in load_run(tmp_path).history] == [1, 2]


def test_disk_full_at_start_is_one_line(tmp_path, dataset, monkeypatch):
  def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "w" / ".config.json.x"))
  monkeypatch.setattr(tempfile, "mkstemp", full)
  with pytest.raises(workdir_lib.WorkdirError) as info:
    fit(tiny_config(1), dataset, tmp_path / "w")
  assert "No space left on device" in _one_line(info.value) and str(tmp_path / "w") in str(info.value)


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_workdir_is_one_line(tmp_path, dataset, monkeypatch, code):
  fit(tiny_config(1), dataset, tmp_path)
  before = _tree_hash(tmp_path)
  real_open = os.open

  def refuse(path, flags, *args, **kwargs):
    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
      raise OSError(code, os.strerror(code), str(path))
    return real_open(path, flags, *args, **kwargs)
  monkeypatch.setattr(os, "open", refuse)  # what a read-only mount (or another user's folder) answers
  with pytest.raises(workdir_lib.WorkdirError) as info:  # train with nothing to do
    fit(tiny_config(1), dataset, tmp_path)
  assert os.strerror(code) in _one_line(info.value) and str(tmp_path / ".lock") in str(info.value)
  monkeypatch.setattr(tempfile, "mkstemp", lambda *a, dir=None, **k: (_ for _ in ()).throw(
      OSError(code, os.strerror(code), str(dir))))
  with pytest.raises(OSError) as info:  # evaluate writes its report
    report(tmp_path)
  message = _one_line(info.value)
  assert os.strerror(code) in message and str(tmp_path) in message
  monkeypatch.undo()
  assert _tree_hash(tmp_path) == before


def test_an_unwritable_compilation_cache_is_no_cache_and_one_warning(tmp_path, monkeypatch, capsys):
  from research import compile_cache

  def refuse(self, *args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied", str(self))
  monkeypatch.setenv(compile_cache.ENV, str(tmp_path / "cache"))
  monkeypatch.setattr(pathlib.Path, "mkdir", refuse)
  assert compile_cache.enable() is None
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "no compilation cache" in err and "Permission denied" in err


def test_evaluate_defaults_to_the_runs_split_and_refuses_an_unlabelled_one(tmp_path):
  config = config_file.load(str(ROOT / "configs" / "cnn_svm.py") + ":smoke")
  config.train.epochs = 1
  fit(config, workdir=tmp_path)
  (tmp_path / "report.md").unlink()
  report(tmp_path)  # launch/evaluate.py without --split
  assert "(val split)" in (tmp_path / "report.md").read_text().splitlines()[0]
  with pytest.raises(ValueError, match="the test split of .* has no labels.*--split val.*launch/predict.py"):
    report(tmp_path, "test")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, dataset):
  workdir = tmp_path_factory.mktemp("trained")
  fit(tiny_config(1), dataset, workdir)
  return workdir


def test_a_negative_eval_batch_in_config_json_is_refused_in_words(trained, tmp_path):
  import shutil
  from research import config_check
  workdir = tmp_path / "w"
  shutil.copytree(trained, workdir)
  config = json.loads((workdir / "config.json").read_text())
  config["train"]["eval_batch_size"] = -5
  (workdir / "config.json").write_text(json.dumps(config))
  with pytest.raises(config_check.ConfigError, match=r"config.json: config.train.eval_batch_size is -5; .*>= 1"):
    report(workdir)


def test_counting_repetitions_with_a_run_that_does_not_count_is_refused(trained, tmp_path):
  from research.train import reporting
  with pytest.raises(ValueError, match="'regression' run .* needs a workout-tracker run"):
    reporting.count_repetitions(trained, tmp_path / "recording.npz")

"""Checkpoints a run can trust: verified restores, the checkpoint as the history's source, signals, kills."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from research import config_file
from research import workdir as workdir_lib
from research.data import load_dataset
from research.train import fit, load_run, report
from research.train import checkpoint

ROOT = pathlib.Path(__file__).resolve().parents[2]
LSTM_FILTER = str(ROOT / "configs" / "lstm_filter.py")


def tiny_config(epochs):
  config = config_file.load(LSTM_FILTER + ":smoke")
  config.data.duration = 0.2
  config.model.hidden_sizes = (4, 4)
  config.train.epochs = epochs
  config.train.mode = "max"  # the falling validation loss keeps epoch 1 as the best: two steps on disk
  return config


def _assert_same_params(a, b):
  for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _steps(workdir) -> list[int]:
  return sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit())


def _largest_file(folder: pathlib.Path) -> pathlib.Path:
  return max((p for p in folder.rglob("*") if p.is_file() and p.name != checkpoint.SUMS),
             key=lambda p: p.stat().st_size)


@pytest.mark.parametrize("damage", [pytest.param("overwrite", marks=pytest.mark.slow), "truncate"])
def test_broken_latest_checkpoint_falls_back_and_resumes_exactly(tmp_path, capsys, damage):
  dataset = load_dataset(tiny_config(3))
  fit(tiny_config(4), dataset, tmp_path / "straight")
  fit(tiny_config(3), dataset, tmp_path / "run")
  assert _steps(tmp_path / "run") == [1, 3]
  victim = _largest_file(tmp_path / "run" / "checkpoints" / "3")
  blob = victim.read_bytes()
  if damage == "overwrite":  # 64 bytes of garbage, e.g. Adam moments of 1e38
    victim.write_bytes(blob[:len(blob) // 2] + b"\x7f" * 64 + blob[len(blob) // 2 + 64:])
  else:
    victim.write_bytes(blob[:len(blob) // 2])
  load_run(tmp_path / "run")  # falls back to the intact step 1, saying which step is broken
  assert "step 3" in capsys.readouterr().out
  fit(tiny_config(4), dataset, tmp_path / "run")  # resumes from epoch 1: same numbers as never broken
  assert (tmp_path / "run" / "checkpoints" / "3.broken").is_dir()  # kept aside, not deleted
  _assert_same_params(load_run(tmp_path / "run", best=False).variables,
                      load_run(tmp_path / "straight", best=False).variables)


def test_every_checkpoint_broken_is_one_clear_error(tmp_path):
  from research.train import TrainingError
  fit(tiny_config(1), load_dataset(tiny_config(1)), tmp_path)
  victim = _largest_file(tmp_path / "checkpoints" / "1")
  victim.write_bytes(victim.read_bytes()[:10])
  with pytest.raises(TrainingError, match="no intact checkpoint .* Remove that folder"):
    load_run(tmp_path)


def test_history_file_is_rewritten_from_the_checkpoint(tmp_path):
  config = tiny_config(2)
  fit(config, load_dataset(config), tmp_path)
  path = tmp_path / "history.jsonl"
  original = path.read_text()
  rows = [json.loads(line) for line in original.splitlines()]
  rows[-1]["is_best"] = True  # an edited best epoch
  path.write_text("".join(json.dumps(r) + "\n" for r in rows[:1]) + "not json at all\n")
  result = report(tmp_path, "test")
  assert result["best_epoch"] == 1
  assert path.read_text() == original


def test_changed_data_under_the_same_workdir_is_refused(tmp_path):
  config = tiny_config(1)
  dataset = load_dataset(config)
  fit(config, dataset, tmp_path)
  dataset.train["x"][0, 0, 0] += 1.0
  with pytest.raises(workdir_lib.WorkdirError, match="trained on other data"):
    fit(tiny_config(2), dataset, tmp_path)


def test_unwritable_workdir_is_one_clear_error(tmp_path, monkeypatch):
  def refuse(self, *args, **kwargs):
    raise PermissionError(13, "Permission denied")
  monkeypatch.setattr(pathlib.Path, "mkdir", refuse)
  with pytest.raises(workdir_lib.WorkdirError, match="is not writable .* choose a folder you can write to"):
    workdir_lib.start(tmp_path / "new", tiny_config(1))


# --- Signals and kills, through launch/train.py ------------------------------------------------

def _train_command(workdir, epochs):
  return [sys.executable, str(ROOT / "launch" / "train.py"), "--config", str(ROOT / "configs" / "sign_lstm.py:smoke"),
          f"--config.train.epochs={epochs}", "--config.train.checkpoint_every=1",
          "--config.train.early_stopping.enabled=false", f"--workdir={workdir}"]


def _env(tmp_path):
  return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _saving(workdir) -> bool:
  folder = workdir / "checkpoints"
  return folder.exists() and any("tmp" in p.name for p in folder.iterdir())


def _saved(workdir) -> int:
  folder = workdir / "checkpoints"
  return max([int(p.name) for p in folder.iterdir() if p.name.isdigit()], default=0) if folder.exists() else 0


@pytest.mark.slow
def test_sigterm_saves_the_epoch_and_prints_the_resume_command(tmp_path):
  epochs = 400
  process = subprocess.Popen(_train_command(tmp_path / "run", epochs), cwd=ROOT, env=_env(tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  while _saved(tmp_path / "run") < 2 and process.poll() is None:
    time.sleep(0.05)
  process.send_signal(signal.SIGTERM)
  _, stderr = process.communicate(timeout=600)
  assert process.returncode == 128 + signal.SIGTERM, stderr
  assert "SIGTERM after epoch" in stderr and "Resume with: python" in stderr and "Traceback" not in stderr
  stopped_at = _saved(tmp_path / "run")
  assert 2 <= stopped_at < epochs
  history = workdir_lib.read_history(tmp_path / "run" / "history.jsonl")
  assert history[-1]["epoch"] == stopped_at


@pytest.mark.slow
def test_killed_at_random_instants_resumes_bitwise(tmp_path):
  """Three SIGKILLs at seeded random instants (the middle one inside a checkpoint save), each resumed by the same
  command: the final weights equal an uninterrupted run's bit for bit."""
  epochs, rng = 24, np.random.default_rng(1738)
  env = _env(tmp_path)
  subprocess.run(_train_command(tmp_path / "straight", epochs), cwd=ROOT, env=env, check=True,
                 capture_output=True)
  run = tmp_path / "run"
  kills = []
  for kill in range(3):
    process = subprocess.Popen(_train_command(run, epochs), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    target = _saved(run) + int(rng.integers(1, 4))
    while _saved(run) < target and process.poll() is None:
      time.sleep(0.005)
    if kill == 1:  # wait for the next save to begin, and kill inside it
      while not _saving(run) and process.poll() is None:
        time.sleep(0.001)
      kills.append(("during a save", _saving(run)))
    else:
      time.sleep(float(rng.uniform(0.0, 0.3)))
      kills.append(("at random", _saved(run)))
    assert process.poll() is None, f"the run ended before kill {kill}; raise its epochs"
    process.send_signal(signal.SIGKILL)
    process.wait()
  assert kills[1] == ("during a save", True)
  subprocess.run(_train_command(run, epochs), cwd=ROOT, env=env, check=True, capture_output=True)
  _assert_same_params(load_run(run, best=False).variables, load_run(tmp_path / "straight", best=False).variables)
  drop = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]
  assert drop(load_run(run).history) == drop(load_run(tmp_path / "straight").history)

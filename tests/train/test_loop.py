"""The one host loop: runs initialised alone, no hang on repeated calls, CV resumed after SIGKILL."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest

from research import config_file
from research.train import engine, loop, optim
from research.models import build_model

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_stacked_initial_state_is_each_seed_initialised_alone():
  config = config_file.load(ROOT / "configs" / "sign_lstm.py:smoke")
  model = build_model(config.model, {"class_names": ["a", "b", "c"]})
  optimizer = optim.build_optimizer(config.optim)
  x = np.zeros((1, 10, 1662), np.float32)
  stacked = loop.init_states(model, optimizer, x, "max", [3, 7])
  for r, seed in enumerate((3, 7)):
    alone = engine.init_state(jax.random.PRNGKey(seed), model, optimizer, x, "max")
    for a, b in zip(jax.tree_util.tree_leaves(alone), jax.tree_util.tree_leaves(stacked)):
      np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[r])


def test_group_slices_cut_runs_into_programs_without_splitting_members():
  spans = lambda *args: [(s.start, s.stop) for s in loop.group_slices(*args)]
  assert spans(7, 0) == [(0, 7)]
  assert spans(7, 3) == [(0, 3), (3, 6), (6, 7)]
  assert spans(8, 5, 2) == [(0, 4), (4, 8)]  # 5 runs would split a spec's pair of members
  assert spans(6, 1, 3) == [(0, 3), (3, 6)]  # a group holds at least one spec's members


def _random_split(n, seed):
  rng = np.random.default_rng(seed)
  return {"x": rng.normal(size=(n, 10, 1662)).astype(np.float32), "y": (np.arange(n) % 3).astype(np.int32)}


def test_runs_in_groups_train_as_in_one_program_and_resume_per_group(tmp_path):
  config = config_file.load(ROOT / "configs" / "sign_lstm.py:smoke")
  meta = {"class_names": ["a", "b", "c"], "input_shape": [10, 1662]}
  train, val = _random_split(16, 0), _random_split(8, 1)
  runs = [loop.RunSpec(seed=s, train=train, val=val) for s in range(2)]
  together = loop.train_many(config, meta, runs, log=None)
  grouped = loop.train_in_groups(config, meta, runs, group_size=1, checkpoint_dir=tmp_path, log=None)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["runs_000-000", "runs_001-001"]
  for a, b in zip(together, grouped):
    assert a.seed == b.seed
    np.testing.assert_allclose([r["loss"] for r in a.history], [r["loss"] for r in b.history], rtol=1e-5)
    for x, y in zip(jax.tree_util.tree_leaves(a.variables), jax.tree_util.tree_leaves(b.variables)):
      np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-6)
  resumed = loop.train_in_groups(config, meta, runs, group_size=1, checkpoint_dir=tmp_path, log=None)
  assert [r.history for r in resumed] == [r.history for r in grouped]


@pytest.mark.slow
def test_repeated_multirun_calls_return(tmp_path):
  """Five runs with orthogonal 512 x 128 recurrent kernels, twice in one process: used to hang.

  Initialising the runs under vmap ran batched LAPACK QR kernels that wait on XLA's
  intra-op pool for their own parts; two in flight took both threads of a 2-core
  machine and waited on each other forever. The persistent compilation cache is on (as in every
  launch script): the second call loads its programs instead of compiling them again, and still runs
  the batched initialisation.
  """
  script = textwrap.dedent(f"""
      import sys
      sys.path.insert(0, {str(ROOT)!r})
      from research import compile_cache
      compile_cache.enable()
      from research import config_file
      from research.data import load_dataset
      from research.train import loop
      config = config_file.load({str(ROOT / "configs" / "sign_lstm.py:smoke")!r})
      with config.unlocked():
        config.model.lstm_sizes = (64, 128, 64)
        config.train.epochs = 1
        config.data.cache_dir = {str(tmp_path / "cache")!r}
      ds = load_dataset(config)
      meta = {{**ds.meta, "input_shape": list(ds.train["x"].shape[1:])}}
      for call in range(2):
        runs = [loop.RunSpec(seed=s, train=ds.train, val=ds.val) for s in range(5)]
        loop.train_many(config, meta, runs, log=None)
        print("call", call, "returned", flush=True)
  """)
  done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900)
  assert done.returncode == 0, done.stderr[-2000:]
  assert done.stdout.count("returned") == 2


def _cv_command(workdir):
  return [sys.executable, str(ROOT / "launch" / "cv.py"), "--config", str(ROOT / "configs" / "sign_lstm.py:smoke"),
          "--nouse_baseline", "--folds", "2", "--workdir", str(workdir), "--config.train.epochs=6",
          "--config.train.checkpoint_every=1", "--config.train.early_stopping.enabled=false"]


def _saved_steps(workdir) -> list[int]:
  folder = workdir / "sign_lstm" / "checkpoints"
  return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.exists() else []


@pytest.mark.slow
def test_cv_killed_mid_training_resumes_to_the_same_report(tmp_path):
  env = {**os.environ, "RESEARCH_DATA_CACHE": str(tmp_path / "cache")}
  straight, resumed = tmp_path / "straight", tmp_path / "resumed"
  subprocess.run(_cv_command(straight), check=True, cwd=ROOT, env=env, capture_output=True)
  process = subprocess.Popen(_cv_command(resumed), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  deadline = time.time() + 600
  while not [s for s in _saved_steps(resumed) if s >= 2] and process.poll() is None and time.time() < deadline:
    time.sleep(0.05)
  assert process.poll() is None, "the CV finished before it could be killed; raise its epochs"
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert not (resumed / "cv_report.json").exists()
  subprocess.run(_cv_command(resumed), check=True, cwd=ROOT, env=env, capture_output=True)
  load = lambda w: json.loads((w / "cv_report.json").read_text())
  assert load(straight) == load(resumed)

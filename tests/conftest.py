"""Shared test helpers and fixtures.

Tests share JAX's persistent compilation cache (research.compile_cache), so a program that many
tests compile (the smoke configs' steps) is compiled once per machine. Fixtures shared by the export
tests: `smoke_family` (a model family's smoke config and input shape) and `conv_net` (a small classifier).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import ml_collections
import pytest

from research import compile_cache

compile_cache.enable()

ROOT = pathlib.Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items):
  """The `slow` tests first, in their files' order: with two workers (pytest-xdist) the minute-long
  ones start early and the short ones fill the end, instead of one long test running alone last."""
  items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def load_config(name: str, variant: str | None = "smoke", **overrides):
  """configs/<name>.py[:variant] shrunk further: `overrides` are dotted fields, e.g.
  `load_config("tcn", train__epochs=1)` (`__` stands for the dot)."""
  from research import config_file
  config = config_file.load(f"{ROOT / 'configs' / name}.py" + (f":{variant}" if variant else ""))
  for key, value in overrides.items():
    *parents, field = key.split("__")
    node = config
    for parent in parents:
      node = node[parent]
    node[field] = value
  return config


def run_script(script: str, *args: str, cwd=None, timeout: float = 600, check: bool = False):
  """Runs `python <script> args...` (a path relative to the checkout, e.g. launch/train.py) in a
  subprocess with this checkout first on PYTHONPATH; returns the CompletedProcess (text output)."""
  env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
  result = subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
  if check and result.returncode != 0:
    raise AssertionError(f"{script} {' '.join(map(str, args))} exited with {result.returncode}:\n"
                         f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
  return result


# Starting Python and importing JAX, scikit-learn and the library takes longer than most launch
# scripts' refusals and smoke runs, so run_commands imports them once in one helper process and forks a
# fresh child per command, which runs the script as `python script args` would (`__main__`, its folder
# first on sys.path, its own absl flags) and exits with the script's exit status. The parent never
# starts a JAX backend, so the children start from a process with no JAX threads.
FORK_RUNNER = r"""
import json, os, runpy, sys, time, traceback
import jax, sklearn, matplotlib.pyplot  # noqa: F401  (imported once; no JAX backend starts here)
import research.cli, research.train, research.studies, research.evaluation  # noqa: F401
jobs = json.loads(sys.stdin.read())
results = []
for job in jobs:
  log = job["log"]
  pid = os.fork()
  if pid == 0:
    code = 1
    try:
      os.chdir(job["cwd"])
      out = os.open(log + ".out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
      err = os.open(log + ".err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
      os.dup2(out, 1)
      os.dup2(err, 2)
      script = job["argv"][0]
      sys.argv = list(job["argv"])
      sys.path[0] = os.path.dirname(os.path.abspath(script))
      runpy.run_path(script, run_name="__main__")
      code = 0
    except SystemExit as exit:
      if isinstance(exit.code, int) or exit.code is None:
        code = exit.code or 0
      else:
        print(exit.code, file=sys.stderr)
    except BaseException:
      traceback.print_exc()
    finally:
      sys.stdout.flush()
      sys.stderr.flush()
      os._exit(code)
  deadline = time.time() + job["timeout"]
  while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
      code = os.waitstatus_to_exitcode(status)
      break
    if time.time() > deadline:
      os.kill(pid, 9)
      os.waitpid(pid, 0)
      code = "timeout"
      break
    time.sleep(0.05)
  results.append(code)
  if code != 0 and job["stop_on_failure"]:
    break
print(json.dumps(results))
"""


def run_commands(argvs: list[list[str]], cwd, logs, timeout: float = 300, stop_on_failure: bool = True):
  """Runs each argv (a script path relative to `cwd` or ROOT, then its arguments) as `python argv...`
  would, in order, in one warm helper process (FORK_RUNNER); returns [(exit status, stdout, stderr)]
  for the commands that ran (all, or up to the first failure)."""
  logs.mkdir(parents=True, exist_ok=True)
  jobs = [{"argv": [str(ROOT / argv[0]), *argv[1:]], "cwd": str(cwd), "log": str(logs / f"{i:02d}"),
           "timeout": timeout, "stop_on_failure": stop_on_failure} for i, argv in enumerate(argvs)]
  env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
  done = subprocess.run([sys.executable, "-c", FORK_RUNNER], input=json.dumps(jobs), cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=timeout * len(jobs) + 120)
  assert done.returncode == 0, f"the command runner failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
  codes = json.loads(done.stdout.strip().splitlines()[-1])
  read = lambda path: path.read_text() if path.exists() else ""
  return [(code, read(logs / f"{i:02d}.out"), read(logs / f"{i:02d}.err")) for i, code in enumerate(codes)]


def export_smoke_run(name: str, workdir):
  """Trains configs/<name>.py:smoke into `workdir` and exports it as C through the library; checks what
  every C export promises (exit 0, the same class on every test example, export.json as returned) and
  returns the export record."""
  from research.data import load_dataset
  from research.export import pipeline
  from research.train import fit
  config = load_config(name)
  dataset = load_dataset(config)
  fit(config, dataset, workdir)
  outcome = pipeline.export(workdir)
  assert outcome.exit_code == 0 and "class agreement 1.000" in outcome.text, outcome.text
  assert outcome.record == json.loads((pathlib.Path(workdir) / "export.json").read_text())
  parity = outcome.record["parity"]
  assert parity["class_agreement"] == 1.0 and parity["examples"] == len(dataset.test["y"])
  return outcome.record


def mixture_data_config(**overrides):
  """A small frequency-mixture data config (research.data.mixture's fields)."""
  cfg = ml_collections.ConfigDict(dict(
      name="mixture", frequencies=(1.0, 3.0), phases=(0.0, 0.5), sampling_rate=100.0, duration=1.0,
      window=10, stride=5, amplitude_jitter=0.0, phase_jitter=0.0, noise_std=0.0, fresh_noise=True))
  cfg.update(overrides)
  return cfg


# Model families at their smoke configs, shared by the export tests:
# name -> (config file, variant, overrides, input shape per example).
SMOKE_FAMILIES = {
    "lstm_filter": ("lstm_filter", "smoke", {"data.duration": 0.2, "model.hidden_sizes": (4, 4)}, (50, 5)),
    "sign_lstm": ("sign_lstm", "smoke", {}, (10, 1662)),
    "maxcrnn": ("maxcrnn", "smoke", {}, (256, 1)),
    "tcn": ("tcn", "smoke", {}, (30, 25)),
    "inception_time": ("inception_time", "smoke", {}, (30, 2)),
}


@pytest.fixture
def smoke_family():
  """family -> (its smoke config for one epoch, input shape per example); see SMOKE_FAMILIES."""
  from research import config_file
  configs = pathlib.Path(__file__).resolve().parents[1] / "configs"

  def load(family):
    file, variant, overrides, _ = SMOKE_FAMILIES[family]
    config = config_file.load(configs / f"{file}.py:{variant}")
    config.train.epochs = 1
    for dotted, value in overrides.items():
      group, key = dotted.split(".")
      config[group][key] = value
    return config, SMOKE_FAMILIES[family][3]

  return load


@pytest.fixture
def conv_net():
  """A small Conv/BatchNorm/Dense classifier over (B, T, C), 3 classes (a linen Module)."""
  from flax import linen as nn

  class ConvNet(nn.Module):
    num_classes: int = 3

    @nn.compact
    def __call__(self, x, *, train: bool, mask=None):
      h = nn.relu(nn.Conv(16, (5,), padding="SAME")(x))
      h = nn.BatchNorm(use_running_average=not train)(h)
      h = nn.relu(nn.Dense(64)(h.mean(1)))
      return nn.Dense(self.num_classes)(h)

  return ConvNet()

"""Shared test helpers.

Tests share JAX's persistent compilation cache (research.compile_cache), so a program that many
tests compile (the smoke configs' steps) is compiled once per machine.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import ml_collections

from research import compile_cache

compile_cache.enable()

ROOT = pathlib.Path(__file__).resolve().parents[1]


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


def mixture_data_config(**overrides):
  """A small frequency-mixture data config (research.data.mixture's fields)."""
  cfg = ml_collections.ConfigDict(dict(
      name="mixture", frequencies=(1.0, 3.0), phases=(0.0, 0.5), sampling_rate=100.0, duration=1.0,
      window=10, stride=5, amplitude_jitter=0.0, phase_jitter=0.0, noise_std=0.0, fresh_noise=True))
  cfg.update(overrides)
  return cfg

"""The persistent compilation cache: where it lives, how it is turned off, a hit in a second process."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from research import compile_cache

ROOT = pathlib.Path(__file__).resolve().parents[1]

PROGRAM = """
import jax, jax.numpy as jnp
from research import compile_cache
events = []
jax.monitoring.register_event_listener(lambda name, **kw: events.append(name))
print(compile_cache.enable())
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # cache even this small program
jax.jit(lambda x: jnp.sin(x) * 2 + 1)(jnp.ones(3)).block_until_ready()
print("hit" if "/jax/compilation_cache/cache_hits" in events else "miss")
"""


def test_folder_follows_the_environment(monkeypatch, tmp_path):
  monkeypatch.delenv(compile_cache.ENV, raising=False)
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  assert compile_cache.folder() == tmp_path / "research" / "jax"
  monkeypatch.setenv(compile_cache.ENV, str(tmp_path / "mine"))
  assert compile_cache.folder() == tmp_path / "mine"
  for off in ("off", "0", "OFF", ""):
    monkeypatch.setenv(compile_cache.ENV, off)
    assert compile_cache.folder() is None and compile_cache.enable() is None


def _run(env_value):
  result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", compile_cache.ENV: env_value}, timeout=120)
  assert result.returncode == 0, result.stderr
  return result.stdout.split()


@pytest.mark.slow  # two fresh interpreters
def test_a_second_process_loads_what_the_first_compiled(tmp_path):
  cache = tmp_path / "cache"
  assert _run(str(cache)) == [str(cache), "miss"]
  entries = sorted(p.name for p in cache.iterdir())
  assert entries
  assert _run(str(cache)) == [str(cache), "hit"]
  assert sorted(p.name for p in cache.iterdir()) == entries  # nothing compiled again
  assert _run("off") == ["None", "miss"]

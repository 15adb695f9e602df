"""JAX's persistent compilation cache, on by default for every launch script.

A second run of the same config (same shapes, same code, same JAX) loads its
compiled programs from disk instead of compiling them again. The folder:

  RESEARCH_JAX_CACHE unset   <XDG_CACHE_HOME or ~/.cache>/research/jax
  RESEARCH_JAX_CACHE=DIR     DIR
  RESEARCH_JAX_CACHE=off     no persistent cache (JAX compiles every program each run)

The cache is trusted code: keep it in a folder only you can write to (JAX's own warning).
A folder that cannot be created or written (another user's home) means no cache and one warning.
"""

from __future__ import annotations

import os
import pathlib
import sys

ENV = "RESEARCH_JAX_CACHE"
OFF = ("off", "0", "false", "none", "")


def folder() -> pathlib.Path | None:
  """The cache folder this process uses, or None when the cache is off."""
  value = os.environ.get(ENV)
  if value is not None:
    return None if value.strip().lower() in OFF else pathlib.Path(value).expanduser()
  base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
  return pathlib.Path(base) / "research" / "jax"


def enable() -> pathlib.Path | None:
  """Points JAX at `folder()` (before the first compilation); returns it, or None when off."""
  path = folder()
  if path is None:
    return None
  import jax
  try:
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK):
      raise PermissionError(13, "Permission denied", str(path))
  except OSError as error:
    print(f"warning: no compilation cache ({path}: {error.strerror}); every program compiles this run. "
          f"Set {ENV}=DIR to a folder you can write, or {ENV}=off.", file=sys.stderr, flush=True)
    return None
  jax.config.update("jax_compilation_cache_dir", str(path))
  # Every program that took measurable time: the training step, evaluation and prediction programs.
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return path

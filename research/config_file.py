"""Loading a config file outside absl flags (benchmarks, notebooks)."""

from __future__ import annotations

import importlib.util
import pathlib


def load(path):
  """`get_config(variant)` of `path`, written as 'configs/tcn.py' or 'configs/tcn.py:smoke'."""
  file, _, variant = str(path).partition(":")
  if not pathlib.Path(file).is_file():
    raise FileNotFoundError(f"Config file {file} does not exist; give a path like configs/tcn.py")
  spec = importlib.util.spec_from_file_location(pathlib.Path(file).stem, file)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(variant or None)

"""Checks of a config's training fields, before any data is read or any file is written."""

from __future__ import annotations

import math
import os


STEPPINGS = ("auto", "scan", "host")  # config.train.stepping (research.train.engine.resolve_stepping)
RUN_LAYOUTS = ("auto", "vmap", "sequential")  # config.train.runs (research.train.engine.resolve_runs)


class ConfigError(ValueError):
  """A config field with a value no run can use; the message names the field and the fix."""


def _require(condition: bool, field: str, value, expected: str) -> None:
  if not condition:
    raise ConfigError(f"config.{field} is {value!r}; it must be {expected}. "
                      f"Set it with --config.{field}=...")


def validate(config, has_network: bool = True, has_head: bool = False) -> None:
  """Raises ConfigError for the first training field out of range."""
  train, optim = config.train, config.get("optim")
  _require(int(train.eval_batch_size) >= 1, "train.eval_batch_size", train.eval_batch_size, ">= 1")
  if not has_network:
    return
  _require(int(train.batch_size) >= 1, "train.batch_size", train.batch_size, ">= 1")
  minimum = 0 if has_head else 1
  _require(int(train.epochs) >= minimum, "train.epochs", train.epochs,
           ">= 1 (0 is allowed only for a head on an untrained encoder)" if minimum else ">= 0")
  _require(int(train.checkpoint_every) >= 1, "train.checkpoint_every", train.checkpoint_every, ">= 1")
  _require(int(train.get("ensemble", 1)) >= 1, "train.ensemble", train.get("ensemble"), ">= 1")
  _require(int(train.get("runs_per_program", 0)) >= 0, "train.runs_per_program", train.get("runs_per_program"),
           ">= 0 (0: all runs in one program)")
  _require(train.mode in ("min", "max"), "train.mode", train.mode, "'min' or 'max'")
  for field, choices, default in (("stepping", STEPPINGS, "scan"), ("runs", RUN_LAYOUTS, "vmap")):
    _require(train.get(field, default) in choices, f"train.{field}", train.get(field), f"one of {list(choices)}")
  if optim is not None:
    _require(float(optim.lr) > 0, "optim.lr", optim.lr, "> 0")
    for field in ("l2", "weight_decay", "momentum", "clip_norm"):
      if field in optim:
        _require(float(optim[field]) >= 0, f"optim.{field}", optim[field], ">= 0")
  es, rop = train.get("early_stopping"), train.get("plateau")
  if es is not None and es.enabled:
    _require(int(es.patience) >= 1, "train.early_stopping.patience", es.patience, ">= 1")
  if rop is not None and rop.enabled:
    _require(0 < float(rop.factor) < 1, "train.plateau.factor", rop.factor, "between 0 and 1")
    _require(int(rop.patience) >= 1, "train.plateau.patience", rop.patience, ">= 1")


def _memory_bytes() -> int:
  try:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
  except (ValueError, OSError, AttributeError):
    return 1 << 40


def batch_fits(field: str, batch_size: int, examples: int, example_shape) -> None:
  """Refuses a batch size whose padded batch of inputs alone would not fit in this machine's memory
  (a batch is padded up to its size: 10**8 for 100 examples asks for terabytes), naming the data's size."""
  need = int(batch_size) * math.prod(int(d) for d in example_shape) * 4
  have = _memory_bytes()
  if int(batch_size) > examples and need * 16 > have:  # activations take many times the inputs
    raise ConfigError(f"config.{field} is {int(batch_size)}, but the data have {examples} examples: one padded "
                      f"batch of inputs alone would need {need / 2**30:.3g} GiB (this machine has "
                      f"{have / 2**30:.3g} GiB). Set --config.{field}={max(examples, 1)} or less.")

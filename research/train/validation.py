"""How a run uses its validation split: `config.train.validation`.

  split  (default) the loader's validation split drives early stopping, the
         learning-rate plateau and the best weights; the seeds' recipes.
  small  below `config.train.small_data_threshold` training examples, a validation
         split is too small to choose anything (6 series of 40 decide early stopping
         on one or two errors): the validation examples join the training set, the
         run trains its full epoch budget with no early stopping, the plateau
         follows the training loss, and the weights of the lowest training loss are
         kept (InceptionTime's authors' recipe). At or above the threshold it is
         `split`.
  none   the same as `small` whatever the size.

`plan` returns the config and splits a run actually trains with, and the
sentence the report states.
"""

from __future__ import annotations

import copy
import dataclasses

from research.data import dataset as dataset_lib

POLICIES = ("split", "small", "none")


@dataclasses.dataclass
class Plan:
  config: object  # the config to train with (monitor, early stopping)
  train: dict
  val: dict  # empty when the run trains without validation
  statement: str  # what the report says


def _no_validation(config):
  config = copy.deepcopy(config)
  with config.unlocked():
    config.train.monitor = "loss"
    config.train.mode = "min"
    config.train.early_stopping.enabled = False
    config.train.early_stopping.restore_best = True
  return config


def joins_training(config, num_train: int) -> bool:
  """Whether the validation examples join the training set (policy `none`, or `small` below the threshold)."""
  policy = config.train.get("validation", "split")
  threshold = int(config.train.get("small_data_threshold", 100))
  return policy == "none" or (policy == "small" and num_train < threshold)


def plan(config, train: dict, val: dict) -> Plan:
  """The config and splits to train with under `config.train.validation`."""
  policy = config.train.get("validation", "split")
  if policy not in POLICIES:
    raise ValueError(f"config.train.validation={policy!r}; valid: {POLICIES}")
  threshold = int(config.train.get("small_data_threshold", 100))
  num_train = len(train["y"])
  if policy == "split" and not len(val["y"]):
    raise ValueError("config.train.validation='split' but the validation split is empty "
                     "(config.data.val_fraction=0?); give a validation fraction, or set "
                     "config.train.validation to 'small' or 'none'")
  if not joins_training(config, num_train):
    why = "" if policy == "split" else f" ({num_train} training examples >= {threshold})"
    return Plan(config, train, val, f"Validation: the {len(val['y'])}-example validation split chose the stopping "
                f"epoch and the best weights by {config.train.monitor}{why}.")
  merged = dataset_lib.concatenate(train, val) if len(val["y"]) else train
  reason = (f"{num_train} training examples < config.train.small_data_threshold {threshold}"
            if policy == "small" else "config.train.validation = none")
  joined = "The validation examples joined the training set" if len(val["y"]) else "No validation split"
  if config.model.name == "none":
    what = "the head chose its own settings on the training set alone."
  else:
    what = (f"the run trained its full budget of {config.train.epochs} epochs with the learning-rate plateau "
            "on the training loss, and reports the weights of its lowest training loss.")
  return Plan(_no_validation(config), merged, {k: v[:0] for k, v in merged.items()},
              f"Validation: none ({reason}). {joined}; {what}")

"""The optimizer and training groups every config shares, with each field explained.

A config states only what differs from these defaults:
  config.optim = config_defaults.optim(lr=5e-4)
  config.train = config_defaults.train(epochs=15, monitor="val_seg_loss",
                                       early_stopping={"patience": 20})
"""

from __future__ import annotations

import ml_collections


def _with(group: dict, overrides: dict, where: str) -> ml_collections.ConfigDict:
  unknown = sorted(set(overrides) - set(group))
  if unknown:
    raise ValueError(f"{where} has no field(s) {unknown}; it has {sorted(group)}")
  return ml_collections.ConfigDict({**group, **overrides})


def optim(**overrides) -> ml_collections.ConfigDict:
  return _with({
      "name": "adam",  # adam | adamw | sgd
      "lr": 1e-3,
      "l2": 0.0,  # coupled: added to the gradient before Adam (torch Adam weight_decay)
      "weight_decay": 0.0,  # decoupled (AdamW)
      "momentum": 0.0,  # sgd only
      "clip_norm": 0.0,  # global gradient norm; 0 disables
  }, overrides, "config.optim")


def train(*, early_stopping=None, plateau=None, **overrides) -> ml_collections.ConfigDict:
  group = _with({
      "epochs": 50,
      "batch_size": 64,
      "eval_batch_size": 1024,
      "sampler": "uniform",  # an entry of research.train.sampling.SAMPLERS
      "monitor": "val_loss",  # metric the controllers and best weights follow
      "mode": "min",  # min | max
      "checkpoint_every": 1,  # epochs between checkpoints (the last epoch is always saved)
      "ensemble": 1,  # networks per run (seeds seed..seed+N-1, trained together; mean probabilities)
      "runs_per_program": 0,  # a study's runs vmapped together at most (0: all; research.train.multirun)
      "validation": "split",  # split | small | none (research.train.validation)
      "small_data_threshold": 100,  # training examples below which 'small' trains without validation
  }, overrides, "config.train")
  group.early_stopping = _with({
      "enabled": True,
      "patience": 10,  # epochs without improvement
      "min_delta": 0.0,
      "restore_best": True,
  }, early_stopping or {}, "config.train.early_stopping")
  group.plateau = _with({
      "enabled": True,
      "factor": 0.5,
      "patience": 5,
      "min_delta": 1e-4,  # Keras' default
      "cooldown": 0,
      "min_lr": 0.0,
  }, plateau or {}, "config.train.plateau")
  return group


def mesh(**overrides) -> ml_collections.ConfigDict:
  """Where runs train (research.train.mesh); used as is when a config has no `mesh` group."""
  return _with({
      # auto: runs for a study of several runs, data for one run (when its batch sizes divide the
      # device count; else one device) | runs: the runs spread over devices | data: each batch split
      "axis": "auto",
      "devices": 0,  # devices in the mesh, over every process; 0 = all
      # Multi-host (research.distributed): "" = $JAX_COORDINATOR_ADDRESS, none when unset (one process);
      # "auto" = JAX's cluster detection (Cloud TPU slice, SLURM, Open MPI); else host:port of process 0.
      "coordinator": "",
      "num_processes": 0,  # 0 = $JAX_NUM_PROCESSES, else detected
      "process_id": -1,  # -1 = $JAX_PROCESS_ID, else detected
  }, overrides, "config.mesh")

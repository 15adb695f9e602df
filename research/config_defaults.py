"""The groups every config shares, with each field explained; a config states only what differs.

  config = config_defaults.base(seed=42, variant=arg, variants=("smoke", "full"), file=__file__)
  config.optim = config_defaults.optim(lr=5e-4)
  config.train = config_defaults.train(epochs=15, monitor="val_seg_loss",
                                       early_stopping={"patience": 20})

`base` gives seed, eval, cv and mesh (and checks the variant); `train` carries the
checkpointing fields. Configs are loaded by file path (ml_collections' config_flags),
so the shared part lives here, in the importable package.
"""

from __future__ import annotations

import pathlib

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
      "runs_per_program": 0,  # a study's runs in one program at most (0: all; research.train.loop)
      "validation": "split",  # split | small | none (research.train.validation)
      "small_data_threshold": 100,  # training examples below which 'small' trains without validation
      # scan: the epoch is one compiled program (lax.scan over steps) | host: its steps are called from
      # Python | auto: host on one CPU device for XLA-convolution models, else scan (research.train.engine)
      "stepping": "auto",
      # vmap: one program batches a study's runs into one computation | sequential: computes them one
      # after another | auto: sequential on CPU, vmap elsewhere (research.train.engine.resolve_runs)
      "runs": "auto",
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



def cv_group(seed: int, **overrides) -> ml_collections.ConfigDict:
  """Cross-validation (research.studies.cv); a baseline shares the config's folds."""
  return _with({
      "folds": 5,
      "seed": seed,  # StratifiedKFold(shuffle=True, random_state=...)
      "val_fraction": 0.15,  # of each training fold, for early stopping
      "group_by": "auto",  # a data key (e.g. subject) for leave-groups-out; "" for none; auto: recording
  }, overrides, "config.cv")


def check_variant(variant, variants: tuple[str, ...], file) -> None:
  """Refuses a variant (the `:name` after the config path) the config does not have, naming the valid ones."""
  if variant not in (None, "", *variants):
    raise ValueError(f"Unknown variant {variant!r} of configs/{pathlib.Path(file).name}; "
                     f"valid: {', '.join(variants)}")


def base(*, seed: int, variant=None, variants: tuple[str, ...] = (), file="config", eval_split: str = "test",
         cv: dict | None = None) -> ml_collections.ConfigDict:
  """A config's shared groups: `seed`, `eval`, `cv` (seeded by `seed`, with `cv`'s overrides) and
  `mesh`; refuses a `variant` not in `variants` first (check_variant)."""
  check_variant(variant, variants, file)
  config = ml_collections.ConfigDict()
  config.seed = seed  # init, shuffling, dropout, augmentation; the data have their own seeds
  config.eval = ml_collections.ConfigDict({"split": eval_split})  # the split reports evaluate
  config.cv = cv_group(seed, **(cv or {}))
  config.mesh = mesh()
  return config

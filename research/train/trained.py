"""A trained run: optional network -> optional head -> outputs. Made by research.train.run or
read back from a workdir by `load_run` (predict, evaluate, export).

`Run` predicts the same way whichever stages it has: the network's task outputs
(the mean over members for an ensemble), or the head's class probabilities on
the network's `encode` features or on a feature map.

Workdir layout of a run: config.json, dataset.json, history.jsonl,
checkpoints/ (Orbax: the network's state, with a leading member axis), head/final
and head/latest (the head fitted on the best and on the last network weights;
only final without a network), report.json/.md, labels.json, plots/.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from research import config_check
from research import heads as heads_lib
from research import workdir as workdir_lib
from research.errors import ResearchError
from research.data import dataset as dataset_lib
from research.tasks import build_task
from research.train.specs import TrainingError

HEAD_DIR = "head"


class NotExportableError(ResearchError):
  """The run has no TFLite form; the message says why."""


def has_network(config) -> bool:
  return config.model.get("name", "none") != "none"


def has_head(config) -> bool:
  return heads_lib.kind(config) != "none"


def members(config) -> int:
  """Networks per run: an ensemble trains `config.train.ensemble` members (seeds seed, seed+1, ...)."""
  count = int(config.train.get("ensemble", 1))
  if count < 1:
    raise ValueError(f"config.train.ensemble must be >= 1; found {count}")
  return count


def name(config) -> str:
  """How reports call a config's model: the network, the head, or both."""
  parts = [config.model.name] if has_network(config) else []
  if has_head(config):
    parts.append(heads_lib.kind(config) if has_network(config) or config.head.features == heads_lib.ENCODER
                 else f"{heads_lib.kind(config)}({config.head.features})")
  return "+".join(parts)


@dataclasses.dataclass
class Run:
  """A trained run. `variables` carry a leading member axis when `num_members` > 1."""
  config: ml_collections.ConfigDict
  meta: dict[str, Any]
  model: Any = None  # None without a network
  task: Any = None
  variables: Any = None
  num_members: int = 1
  head: Any = None
  feature_map: Any = None
  histories: list = dataclasses.field(default_factory=list)  # per member: one row per epoch
  workdir: pathlib.Path | None = None

  @property
  def history(self) -> list[dict]:
    """The first member's history (the run's, without an ensemble)."""
    return self.histories[0] if self.histories else []

  @property
  def batch_size(self) -> int:
    return int(self.config.train.eval_batch_size)

  def _member_variables(self):
    if self.num_members == 1:
      return [self.variables]
    return [jax.tree_util.tree_map(lambda a, m=m: a[m], self.variables) for m in range(self.num_members)]

  def network_outputs(self, split: dict, batch_size: int | None = None) -> dict[str, np.ndarray]:
    """The task's outputs; for an ensemble every output is the mean over members."""
    batch_size = batch_size or self.batch_size
    config_check.batch_fits("train.eval_batch_size", batch_size, len(split["x"]), np.shape(split["x"])[1:])
    from research.train import engine  # flax and optax only where there is a network (train/specs.py)
    parts = [engine.predict_split(self.model, self.task, v, split, batch_size) for v in self._member_variables()]
    if len(parts) == 1:
      return parts[0]
    mean = {k: np.mean([p[k] for p in parts], axis=0) for k in parts[0] if k != "label"}
    if "label" in parts[0] and "probs" in mean:
      mean["label"] = mean["probs"].argmax(-1).astype(np.int32)
    return mean

  def features(self, split: dict, batch_size: int | None = None) -> np.ndarray:
    """The head's input features (N, D) for `split`."""
    if self.feature_map is not None:
      return np.asarray(self.feature_map.transform(split), np.float64)
    if self.model is None:
      raise ValueError("this run has neither a network nor a feature map to make features")
    if self.num_members > 1:
      raise ValueError("a head on an ensemble's features is not supported; set config.train.ensemble=1")
    from research.train import engine
    encoded = engine.predict_split(self.model, self.task, self.variables, split,
                                   batch_size or self.batch_size, method="encode")
    return np.asarray(encoded, np.float64)

  def predict(self, split: dict, batch_size: int | None = None) -> dict[str, np.ndarray]:
    """What reports use: the task's outputs, or the head's {'label', 'probs'}."""
    if self.head is None:
      return self.network_outputs(split, batch_size)
    probs = self.head.predict_proba(self.features(split, batch_size)).astype(np.float32)
    return {"label": probs.argmax(-1).astype(np.int32), "probs": probs}

  def inference_fn(self) -> tuple[Callable, list[str]]:
    """(x -> outputs in JAX with everything closed over, notes): the exported graph."""
    notes = []
    model = self.model
    if model is not None and getattr(model, "dtype", "float32") not in ("float32", None):
      notes.append(f"config.model.dtype={model.dtype!r} replaced by float32 for export (weights are float32).")
      model = model.clone(dtype="float32")
    export_conv = getattr(model, "export_conv", None)  # the same numbers, in TFLite's conv op
    if export_conv is not None and model.conv != export_conv:
      model = model.clone(conv=export_conv)
    if self.head is None:
      task, variables = self.task, self.variables
      if self.num_members == 1:
        return (lambda x: task.predict(model.apply(variables, x, train=False))), notes

      def ensemble(x):
        outputs = jax.vmap(lambda v: task.predict(model.apply(v, x, train=False)))(variables)
        mean = {k: jnp.mean(v, 0) for k, v in outputs.items() if k != "label"}
        return mean

      notes.append(f"Ensemble of {self.num_members} members: outputs are the members' mean.")
      return ensemble, notes
    head_fn = self.head.jax_fn()
    if head_fn is None:
      raise NotExportableError(getattr(self.head, "not_exportable", f"the {self.head.kind} head has no JAX form"))
    if self.feature_map is not None:
      features_fn = self.feature_map.jax_fn()
      if features_fn is None:
        raise NotExportableError(f"the {self.feature_map.kind} features have no JAX form to export")
    else:
      variables = self.variables
      features_fn = lambda x: model.apply(variables, x, train=False, method="encode")
    notes += getattr(self.head, "export_notes", lambda: [])()
    return (lambda x: head_fn(features_fn(x))), notes


def fit_head(run: Run, train_split: dict, seed: int) -> Run:
  """`run` with its head (and feature map) fitted on `train_split`."""
  feature_map = heads_lib.build_feature_map(run.config, run.meta)
  if feature_map is not None:
    feature_map.fit(train_split)
  run = dataclasses.replace(run, feature_map=feature_map, head=None)
  head = heads_lib.build_head(run.config, len(run.meta["class_names"]), seed)
  head.fit(run.features(train_split), np.asarray(train_split["y"]))
  return dataclasses.replace(run, head=head)


def load_run(workdir, best: bool = True) -> Run:
  """Reads back the run in `workdir`: best weights and head/final (`best=False`: last and head/latest)."""
  workdir = pathlib.Path(workdir)
  for file in ("config.json", "dataset.json"):
    if not (workdir / file).exists():
      raise TrainingError(f"{workdir / file} is missing: {workdir} is not a trained workdir "
                          f"(train one with launch/train.py --workdir {workdir}).")
  config = ml_collections.ConfigDict(workdir_lib.read_json(workdir / "config.json"))
  try:
    config_check.validate(config, has_network(config), has_head(config))
  except config_check.ConfigError as error:
    raise config_check.ConfigError(f"{workdir / 'config.json'}: {error}") from error
  meta = workdir_lib.read_json(workdir / "dataset.json")
  run = Run(config=config, meta=meta, num_members=members(config), workdir=workdir)
  if has_network(config):
    from research.train import checkpoint, loop  # flax and optax only with a network (train/specs.py)
    built = loop.components(config, meta)
    seeds = [int(config.seed) + m for m in range(run.num_members)]
    like = jax.eval_shape(lambda: loop.init_states(
        built.model, built.optimizer, np.zeros([1] + meta["input_shape"], np.float32), config.train.mode, seeds))
    if not (workdir / "checkpoints").is_dir():
      raise TrainingError(f"{workdir / 'checkpoints'} is missing: the run has not finished an epoch yet. "
                          f"Train it first (launch/train.py --workdir {workdir}).")
    mgr = checkpoint.manager(workdir / "checkpoints", config.train.monitor, config.train.mode, writer=False)
    try:
      restored = checkpoint.restore_latest(mgr, like)
    except checkpoint.NoIntactCheckpointError as error:
      raise TrainingError(str(error)) from error
    except checkpoint.CheckpointMismatchError as error:
      raise TrainingError(f"{error}: {workdir / 'config.json'} no longer describes the network that was "
                          "trained (was it edited?). Restore its model, optim and train fields as they were "
                          "when the run trained; the checkpoint itself is fine.") from error
    if restored is None:
      raise TrainingError(f"{workdir / 'checkpoints'} holds no checkpoint: the run has not finished an "
                          f"epoch yet. Train it first (launch/train.py --workdir {workdir}).")
    state, saved, _ = restored
    variables = jax.device_get(state.variables(best=best and config.train.early_stopping.restore_best))
    if run.num_members == 1:
      variables = jax.tree_util.tree_map(lambda a: a[0], variables)
    run = dataclasses.replace(run, model=built.model, task=built.task, variables=variables,
                              histories=saved["histories"])
  else:
    run = dataclasses.replace(run, task=build_task(config.task, meta))
  if has_head(config):
    folder = workdir / HEAD_DIR / ("final" if best or not (workdir / HEAD_DIR / "latest").exists() else "latest")
    head, feature_map, _ = heads_lib.load(folder)
    run = dataclasses.replace(run, head=head, feature_map=feature_map)
  return run


def dataset_meta(dataset: dataset_lib.Dataset) -> dict:
  """The dataset's meta as a run records it in dataset.json, with the data's fingerprint."""
  return {**dataset.meta, "input_shape": list(dataset.train["x"].shape[1:]), "sizes": dataset.sizes(),
          "fingerprint": dataset.fingerprint()}

"""Orbax checkpoints in `workdir/checkpoints`: the latest state and the best one.

One CheckpointManager keeps the newest step (for resume) and the best step by
the monitored metric. `max_to_keep` with `best_fn` would keep the best N and
delete the newest, breaking resume, so the preservation policy names both.
"""

from __future__ import annotations

import pathlib

import jax
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as policies


def manager(directory, monitor: str, mode: str) -> ocp.CheckpointManager:
  metric = lambda metrics: metrics[monitor]
  policy = policies.AnyPreservationPolicy([
      policies.LatestN(n=1),
      policies.BestN(get_metric_fn=metric, reverse=(mode == "min"), n=1),
  ])
  options = ocp.CheckpointManagerOptions(
      preservation_policy=policy, best_fn=metric, best_mode=mode,
      enable_async_checkpointing=False, create=True)
  return ocp.CheckpointManager(pathlib.Path(directory).absolute(), options=options,
                               item_names=("state", "meta"))


def save(mgr: ocp.CheckpointManager, step: int, state, meta: dict, metrics: dict) -> None:
  mgr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                         meta=ocp.args.JsonSave(meta)),
           metrics=metrics)


def restore(mgr: ocp.CheckpointManager, step: int, like):
  """Restores (state, meta) at `step`; `like` is a state (or its shapes) of the same structure."""
  abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
  restored = mgr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                       meta=ocp.args.JsonRestore()))
  return restored["state"], restored["meta"]

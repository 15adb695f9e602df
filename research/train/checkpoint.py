"""Orbax checkpoints in a run's `checkpoints/` folder: the latest state and the best one, verified.

One CheckpointManager keeps the newest step (for resume) and the best step by
the monitored metric. `max_to_keep` with `best_fn` would keep the best N and
delete the newest, breaking resume, so the preservation policy names both.

After Orbax has finished a step, the SHA-256 of every file in it goes into
`<step>/sha256.json` (written last, atomically). `restore_latest` trusts only a
step whose files all match; it falls back to the newest intact step, warning
with the broken one's name, so an overwritten or truncated file never loads
silently and never leaves a run stuck.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pathlib

import jax
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as policies

from research import workdir as workdir_lib

SUMS = "sha256.json"


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


def _step_dir(mgr: ocp.CheckpointManager, step: int) -> pathlib.Path:
  return pathlib.Path(mgr.directory) / str(step)


def _file_sums(folder: pathlib.Path) -> dict[str, str]:
  return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(folder.rglob("*")) if p.is_file() and p.name != SUMS}


def save(mgr: ocp.CheckpointManager, step: int, state, meta: dict, metrics: dict) -> None:
  mgr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                         meta=ocp.args.JsonSave(meta)),
           metrics=metrics)
  mgr.wait_until_finished()
  folder = _step_dir(mgr, step)
  if jax.process_index() == 0 and folder.exists():
    workdir_lib.write_json_atomic(folder / SUMS, _file_sums(folder))


def problem(mgr: ocp.CheckpointManager, step: int) -> str | None:
  """Why step `step` cannot be trusted, or None when every file matches its recorded SHA-256."""
  folder = _step_dir(mgr, step)
  if not (folder / SUMS).exists():
    return f"{folder / SUMS} is missing (the save did not finish)"
  try:
    expected = json.loads((folder / SUMS).read_text())
  except json.JSONDecodeError:
    return f"{folder / SUMS} is not valid JSON"
  found = _file_sums(folder)
  changed = sorted(name for name in set(expected) | set(found) if expected.get(name) != found.get(name))
  if changed:
    return f"{len(changed)} file(s) differ from their recorded SHA-256, e.g. {folder / changed[0]}"
  return None


def restore(mgr: ocp.CheckpointManager, step: int, like):
  """Restores (state, meta) at `step`; `like` is a state (or its shapes) of the same structure."""
  abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
  restored = mgr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                       meta=ocp.args.JsonRestore()))
  return restored["state"], restored["meta"]


class NoIntactCheckpointError(RuntimeError):
  """Every checkpoint of a folder is broken."""


def _set_aside(mgr: ocp.CheckpointManager, step: int) -> pathlib.Path:
  """Renames a broken step to `<step>.broken` (kept for inspection, out of Orbax's way)."""
  folder = _step_dir(mgr, step)
  target = folder.with_name(f"{step}.broken")
  n = 1
  while target.exists():
    target, n = folder.with_name(f"{step}.broken{n}"), n + 1
  folder.rename(target)
  mgr.reload()
  return target


def restore_latest(mgr: ocp.CheckpointManager, like, set_aside_broken: bool = False):
  """(state, meta, step) of the newest intact step, or None when there is no checkpoint.

  A broken step is skipped with a warning naming it (and, with `set_aside_broken`,
  renamed to `<step>.broken` so training can save that step again); when every
  step is broken, training starts again (`set_aside_broken`) or NoIntactCheckpointError
  says so and what to do.
  """
  steps = sorted(mgr.all_steps(), reverse=True)
  broken = []
  for step in steps:
    reason = problem(mgr, step)
    if reason is None:
      try:
        state, meta = restore(mgr, step, like)
      except Exception as error:  # noqa: BLE001 - any unreadable checkpoint is skipped alike
        reason = f"Orbax could not read it ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
      else:
        if broken:
          logging.warning("Using checkpoint %s: newer ones are broken (%s).", _step_dir(mgr, step), "; ".join(broken))
          print(f"warning: using checkpoint {_step_dir(mgr, step)} because newer ones are broken: "
                f"{'; '.join(broken)}", flush=True)
        return state, meta, step
    broken.append(f"step {step}: {reason}")
    if set_aside_broken:
      broken[-1] += f" (moved to {_set_aside(mgr, step).name})"
  if steps and set_aside_broken:
    print(f"warning: no intact checkpoint in {mgr.directory} ({'; '.join(broken)}); training from the start",
          flush=True)
  elif steps:
    raise NoIntactCheckpointError(
        f"no intact checkpoint in {mgr.directory}: {'; '.join(broken)}. Remove that folder to train from the "
        "start, or restore the files from a copy.")
  return None

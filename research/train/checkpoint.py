"""Orbax checkpoints in a run's `checkpoints/` folder: the latest state and the best one, verified.

One CheckpointManager keeps the newest step (for resume) and the best step by
the monitored metric. `max_to_keep` with `best_fn` would keep the best N and
delete the newest, breaking resume, so the preservation policy names both.

After Orbax has finished a step, the SHA-256 of every file in it goes into
`<step>/sha256.json` (written last, atomically): a step is *committed* once that
file exists. `restore_latest` trusts only a committed step whose files all match;
it falls back to the newest intact step, warning with the broken one's name, so an
overwritten or truncated file never loads silently and never leaves a run stuck.

"Broken" means corrupt and nothing else: a recorded SHA-256 that no longer matches,
or a file Orbax cannot read. A step whose files are intact but whose state does not
fit the state asked for (another optimizer, another model: a changed config) is
never set aside: `CheckpointMismatchError` says so, and the caller names the
changed fields (research.train.resume). A reader (`writer=False`: evaluate, predict,
export) opens the folder read-only, skips steps still being saved, and never
renames, deletes or rewrites anything, so it can read while a training writes.

A save that fails (a full disk, a read-only folder) removes what it left half
written and raises `CheckpointSaveError` naming the folder and the cause; the last
good step stays.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pathlib
import re
import sys
from typing import TYPE_CHECKING

import jax

from research import workdir as workdir_lib

if TYPE_CHECKING:
  import orbax.checkpoint as ocp

SUMS = "sha256.json"


def manager(directory, monitor: str, mode: str, writer: bool = True) -> ocp.CheckpointManager:
  """The run's CheckpointManager; `writer=False` opens it read-only (creating and deleting nothing)."""
  # Imported here: 0.15 s that a run without a network (a feature map and its head) does not need.
  import orbax.checkpoint as ocp
  from orbax.checkpoint import checkpoint_managers as policies
  metric = lambda metrics: metrics[monitor]
  policy = policies.AnyPreservationPolicy([
      policies.LatestN(n=1),
      policies.BestN(get_metric_fn=metric, reverse=(mode == "min"), n=1),
  ])
  # Orbax warns that a read-only manager saves nothing: that is what a reader asks for.
  with _orbax_logs(logging.WARNING if writer else logging.ERROR):
    options = ocp.CheckpointManagerOptions(
        preservation_policy=policy, best_fn=metric, best_mode=mode,
        enable_async_checkpointing=False, create=writer, read_only=not writer)
    return ocp.CheckpointManager(pathlib.Path(directory).absolute(), options=options,
                                 item_names=("state", "meta"))


def _silence_orphans() -> None:
  """After a failed save or restore (the error raised says what happened, and the run stops), Orbax's
  other reads and writes still end in its threads and asyncio tasks, each logging a traceback."""
  for name in ("asyncio", "absl"):
    logging.getLogger(name).setLevel(logging.CRITICAL)
  sys.unraisablehook = lambda unraisable: None  # TensorStore's callbacks into Orbax's closed event loops


@contextlib.contextmanager
def _orbax_logs(level: int):
  """Orbax's (absl) log messages below `level` are dropped while the block runs."""
  absl_logger = logging.getLogger("absl")
  before = absl_logger.level
  absl_logger.setLevel(max(level, before))
  try:
    yield
  finally:
    absl_logger.setLevel(before)


def _step_dir(mgr: ocp.CheckpointManager, step: int) -> pathlib.Path:
  return pathlib.Path(mgr.directory) / str(step)


def _file_sums(folder: pathlib.Path) -> dict[str, str]:
  return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(folder.rglob("*")) if p.is_file() and p.name != SUMS}


class CheckpointSaveError(OSError):
  """A checkpoint that could not be written; the half-written files are removed, the last good step kept."""

  def __init__(self, errno: int, message: str, filename: str):
    super().__init__(errno, message, filename)
    self.message = message

  def __str__(self):
    return self.message


def _os_cause(error: BaseException) -> OSError | None:
  """The OSError (no space, read-only, permission) behind an error Orbax or TensorStore wrapped
  (TensorStore's say `Failed writing: "<path>" ... [os_error_code='28']`)."""
  seen = set()
  while error is not None and id(error) not in seen:
    if isinstance(error, OSError) and error.errno:
      return error
    code = re.search(r"os_error_code='(\d+)'", str(error))
    if code:
      path = re.search(r'Failed \w+: "([^"]+)"', str(error))
      return OSError(int(code.group(1)), os.strerror(int(code.group(1))), path.group(1) if path else None)
    seen.add(id(error))
    error = error.__cause__ or error.__context__
  return None




def _remove_partial(mgr: ocp.CheckpointManager, step: int) -> None:
  """Removes Orbax's temporary folders and an uncommitted `step` (no sha256.json) after a failed save."""
  import shutil
  directory = pathlib.Path(mgr.directory)
  partial = [p for p in directory.glob("*.orbax-checkpoint-tmp*")]
  if not (_step_dir(mgr, step) / SUMS).exists():
    partial.append(_step_dir(mgr, step))
  for path in partial:
    shutil.rmtree(path, ignore_errors=True)
  try:
    mgr.reload()
  except Exception:  # noqa: BLE001 - the save's own error is the one to report
    pass


def save(mgr: ocp.CheckpointManager, step: int, state, meta: dict, metrics: dict) -> None:
  """Saves `step` and commits it (sha256.json); on failure removes the partial step and raises
  CheckpointSaveError (an OSError naming the folder and the cause)."""
  import orbax.checkpoint as ocp
  folder = _step_dir(mgr, step)
  written = False
  try:
    with _orbax_logs(logging.CRITICAL):  # each failed write thread logs a traceback; one error says it
      mgr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                             meta=ocp.args.JsonSave(meta)),
               metrics=metrics)
      mgr.wait_until_finished()
    written = True
    if jax.process_index() == 0 and folder.exists():
      workdir_lib.write_json_atomic(folder / SUMS, _file_sums(folder))
  except Exception as error:
    _silence_orphans()
    # Orbax may already have rotated the older steps out after writing this one: then keep it.
    if jax.process_index() == 0 and not (written and not [s for s in mgr.all_steps() if s != step]):
      _remove_partial(mgr, step)
    cause = _os_cause(error)
    if cause is None:
      raise
    kept = [s for s in mgr.all_steps() if s != step]
    last = f"the last good checkpoint (epoch {max(kept)}) is kept" if kept else "no earlier checkpoint exists"
    raise CheckpointSaveError(
        cause.errno, f"cannot save the checkpoint of epoch {step} in {mgr.directory}: {cause.strerror} "
        f"({cause.filename or folder}); the partial save was removed and {last}. Free space or make the "
        "folder writable, then run the same command to resume", str(cause.filename or folder)) from error


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
  import orbax.checkpoint as ocp
  abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
  restored = mgr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                       meta=ocp.args.JsonRestore()))
  return restored["state"], restored["meta"]


class NoIntactCheckpointError(RuntimeError):
  """Every checkpoint of a folder is broken."""


class CheckpointMismatchError(RuntimeError):
  """An intact checkpoint whose state does not fit the state asked for (the config changed)."""

  def __init__(self, folder: pathlib.Path, reason: str):
    super().__init__(f"checkpoint {folder} is intact but does not fit the current config ({reason})")
    self.folder, self.reason = folder, reason


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


def _committed(mgr: ocp.CheckpointManager, step: int) -> bool:
  return (_step_dir(mgr, step) / SUMS).exists()


def restore_latest(mgr: ocp.CheckpointManager, like, set_aside_broken: bool = False):
  """(state, meta, step) of the newest intact step, or None when there is no checkpoint.

  A broken (corrupt) step is skipped with a warning naming it (and, with `set_aside_broken`:
  the writer, renamed to `<step>.broken` so training can save that step again); when every
  step is broken, training starts again (`set_aside_broken`) or NoIntactCheckpointError
  says so and what to do. A reader skips steps without sha256.json (a save in progress) and
  retries when a step disappears while it reads (the writer rotated it). An intact step that
  does not fit `like` raises CheckpointMismatchError: nothing is moved or retrained.
  """
  for _ in range(5):  # A running training may rotate steps while a reader lists and reads them.
    steps = sorted(mgr.all_steps(), reverse=True)
    if not set_aside_broken:
      steps = [s for s in steps if _committed(mgr, s)] or steps
    broken, vanished = [], False
    for step in steps:
      reason = problem(mgr, step)
      if reason is None:
        try:
          state, meta = restore(mgr, step, like)
        except Exception as error:  # noqa: BLE001 - rotated away, damaged while read, or another config
          if not _step_dir(mgr, step).exists():
            vanished = True
            break
          reason = problem(mgr, step)
          if reason is None:  # Every file is as saved: the state asked for is another one.
            _silence_orphans()
            raise CheckpointMismatchError(_step_dir(mgr, step), _first_line(error)) from error
        else:
          if broken:
            logging.warning("Using checkpoint %s: newer ones are broken (%s).", _step_dir(mgr, step),
                            "; ".join(broken))
            print(f"warning: using checkpoint {_step_dir(mgr, step)} because newer ones are broken: "
                  f"{'; '.join(broken)}", flush=True)
          return state, meta, step
      elif not _step_dir(mgr, step).exists():
        vanished = True
        break
      broken.append(f"step {step}: {reason}")
      if set_aside_broken:
        broken[-1] += f" (moved to {_set_aside(mgr, step).name})"
    if vanished:
      mgr.reload()
      continue
    break
  if steps and set_aside_broken:
    print(f"warning: no intact checkpoint in {mgr.directory} ({'; '.join(broken)}); training from the start",
          flush=True)
  elif steps:
    raise NoIntactCheckpointError(
        f"no intact checkpoint in {mgr.directory}: {'; '.join(broken)}. Remove that folder to train from the "
        "start, or restore the files from a copy.")
  return None


def _first_line(error: BaseException) -> str:
  """The first sentence of an error (Orbax's go on with advice about its own options)."""
  return (str(error).strip().splitlines() or [type(error).__name__])[0].split(". ")[0][:300]

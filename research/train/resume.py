"""Which config fields may change when a run resumes from its checkpoint, and the refusal when one may not.

A checkpoint holds the network's weights, the optimizer's state, the controllers
(early stopping, plateau, best weights) and the histories; resuming restores all of
them exactly, so that a resumed run continues as if it had never stopped. A field
that decides the *structure* of that state therefore cannot change on resume:

  data, model, task        what is trained (research.workdir.check_identity)
  seed, train.ensemble     the members' seeds and count (the state's leading axis)
  optim.name               adam, adamw and sgd keep different state (moments, trace)
  optim.clip_norm, optim.l2, optim.momentum (sgd)
                           zero or not: a stage of the optimizer chain (or sgd's momentum
                           trace) exists or not; other non-zero values may change

Every other training field may change: epochs (train further), batch sizes, patience,
checkpoint_every, monitor... The learning rate lives in the optimizer state, so a
resumed run goes on with the rate it had reached; config.optim.lr starts new runs.

A changed structural field is refused, not carried over: the run stops before any file
is written, naming the field with its old and new values and the two ways out (restore
the field, or train in a new --workdir). Carrying the weights into a fresh optimizer
would make a run whose history no longer describes one optimizer and that no command
could reproduce; a new workdir keeps both runs honest. Nothing is ever moved aside or
retrained silently: only a corrupt checkpoint (research.train.checkpoint) is "broken".
"""

from __future__ import annotations

import pathlib

from research import workdir as workdir_lib


def _nonzero(value) -> str:
  return "non-zero" if value else "zero"


def _structure(config: dict) -> dict[str, tuple]:
  """{field: (value, what must stay equal)} of the fields that shape the checkpointed state."""
  optim, train = config.get("optim") or {}, config.get("train") or {}
  fields = {"seed": (config.get("seed"),) * 2, "train.ensemble": (train.get("ensemble", 1),) * 2,
            "optim.name": (optim.get("name"),) * 2}
  for name in ("clip_norm", "l2"):
    fields[f"optim.{name}"] = (optim.get(name), _nonzero(optim.get(name)))
  if optim.get("name") == "sgd":
    fields["optim.momentum"] = (optim.get("momentum"), _nonzero(optim.get("momentum")))
  return fields


def _has_checkpoint(workdir: pathlib.Path) -> bool:
  folder = workdir / "checkpoints"
  return folder.is_dir() and any(p.name.isdigit() for p in folder.iterdir())


def changed_fields(old: dict, new: dict) -> list[str]:
  """'field: old -> new' for each structural field that differs between two config.json dicts."""
  before, after = _structure(old), _structure(new)
  return [f"config.{field}: {before[field][0]!r} -> {after.get(field, (None,))[0]!r}"
          for field in before if before[field][1] != after.get(field, (None, None))[1]]


def refusal(workdir, changes: list[str]) -> str:
  return (f"{workdir} holds a checkpoint whose saved state was shaped by other settings "
          f"({'; '.join(changes)}); resuming cannot continue it, so nothing was changed. Set the field(s) "
          "back to the old value(s) to resume that run, or train in a new --workdir.")


def check(workdir, config) -> None:
  """Refuses to resume `workdir` with `config` when a field that shapes the checkpoint changed
  (see the module docstring); a workdir without a checkpoint accepts any training fields."""
  workdir = pathlib.Path(workdir)
  path = workdir / "config.json"
  if not path.exists() or not _has_checkpoint(workdir):
    return
  changes = changed_fields(workdir_lib.read_json(path), workdir_lib.config_json(config))
  if changes:
    raise workdir_lib.WorkdirError(refusal(workdir, changes))


def all_changes(old: dict, new: dict) -> list[str]:
  """'field: old -> new' for every field that differs (config.mesh aside), for a checkpoint that
  does not fit although no known structural field changed."""
  out = []

  def walk(a, b, prefix):
    if isinstance(a, dict) and isinstance(b, dict):
      for key in sorted(set(a) | set(b)):
        if prefix or key != "mesh":
          walk(a.get(key), b.get(key), f"{prefix}{key}.")
    elif a != b:
      out.append(f"config.{prefix[:-1]}: {a!r} -> {b!r}")
  walk(old, new, "")
  return out

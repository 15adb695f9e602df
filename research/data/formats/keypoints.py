"""MediaPipe Holistic keypoint folders: `<root>/<Action>/<sequence>/<frame>.npy`.

Each frame is a (1662,) vector in the layout of `research.data.layouts` (pose 33 x 4,
face 468 x 3, left hand 21 x 3, right hand 21 x 3). A hand MediaPipe did not detect is zeros.
"""

from __future__ import annotations

import collections
import logging
import pathlib
import re
from typing import Sequence

import numpy as np

from research.data import skipped as skipped_lib
from research.data.errors import DataError, DataNotFoundError
from research.data.layouts import NUM_KEYPOINT_FEATURES


def _number(path: pathlib.Path) -> int | None:
  """The frame or sequence number a name holds ('12.npy' -> 12), None for other names."""
  return int(path.stem) if re.fullmatch(r"[0-9]+", path.stem) else None


def _sorted_names(paths):
  """Sorts by number when every name is an integer (0, 1, ..., 10), else by text."""
  paths = list(paths)
  if all(_number(p) is not None for p in paths):
    return sorted(paths, key=_number)
  return sorted(paths, key=lambda p: p.name)


def read_sequence(folder: pathlib.Path, frames: int) -> tuple[np.ndarray | None, str | None, str]:
  """One sequence folder -> ((T, 1662) float32, None, ""), or (None, skip reason, detail).

  frames > 0: frames 0..frames-1 must all be there (extra ones are ignored);
  frames == 0: every numbered frame, which must run 0..n-1 without gaps.
  """
  if frames > 0:
    paths = [folder / f"{i}.npy" for i in range(frames)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
      return None, "missing_frames", f"{len(missing)} of {frames} frames missing, e.g. {missing[0]}"
  else:
    numbered = sorted((_number(p), p) for p in folder.glob("*.npy") if _number(p) is not None)
    if not numbered:
      return None, "empty", "no numbered <frame>.npy file"
    if [n for n, _ in numbered] != list(range(len(numbered))):
      gap = next(i for i, (n, _) in enumerate(numbered) if n != i)
      return None, "missing_frames", f"frames must run 0..n-1; {gap}.npy is missing"
    paths = [p for _, p in numbered]
  rows = []
  for path in paths:
    try:
      frame = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001  (any unreadable file is skipped and counted)
      return None, "unreadable", f"{path.name}: {error}"
    if frame.shape != (NUM_KEYPOINT_FEATURES,) or frame.dtype.kind not in "fiu":
      return None, "wrong_shape", (f"{path.name}: shape {frame.shape}, dtype {frame.dtype}; expected "
                                   f"({NUM_KEYPOINT_FEATURES},) numbers")
    rows.append(frame)
  x_TF = np.stack(rows).astype(np.float32)
  if not np.isfinite(x_TF).all():
    return None, "non_finite", f"{int((~np.isfinite(x_TF)).sum())} NaN/Inf values"
  return x_TF, None, ""


def action_names(root: pathlib.Path) -> list[str]:
  """The action folders under `root`, sorted by name (hidden folders left out)."""
  return [p.name for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")]


def read_folder(root, actions: Sequence[str] | None = None, frames: int = 30):
  """Reads `<root>/<Action>/<sequence>/<frame>.npy`.

  Returns (sequences list of (T, 1662), labels (N,) int32, class_names, skipped) where
  skipped lists the sequences left out (`research.data.skipped` items). Actions come
  from `actions` or, when empty, from the sub-folder names. An action without any
  usable sequence is an error naming it.
  """
  root = pathlib.Path(root)
  if not root.is_dir():
    raise DataNotFoundError(f"config.data.path={str(root)!r} is not a folder; expected "
                            f"<root>/<Action>/<sequence>/<frame>.npy")
  if frames < 0:
    raise ValueError(f"config.data.frames must be >= 0 (0 = any length); found {frames}")
  if not actions:
    actions = action_names(root)
    if not actions:
      raise DataError(f"{root}: no action folders found; expected <root>/<Action>/<sequence>/<frame>.npy "
                      "(or set config.data.path to the folder holding the action folders)", "empty")
  sequences, labels, skipped, problems = [], [], [], []
  for label, action in enumerate(actions):
    folder = root / action
    counts = collections.Counter()
    used = 0
    if folder.is_dir():
      for seq_dir in _sorted_names(p for p in folder.iterdir() if p.is_dir()):
        x_TF, reason, detail = read_sequence(seq_dir, frames)
        if reason:
          counts[reason] += 1
          skipped.append(skipped_lib.item(f"{action}/{seq_dir.name}", reason, detail, action))
          continue
        sequences.append(x_TF)
        labels.append(label)
        used += 1
    if counts:
      logging.warning("%s: skipped %d sequences of %r: %s", root, sum(counts.values()), action,
                      dict(counts))
    if used == 0:
      where = "has no folder" if not folder.is_dir() else f"has no usable sequence (skipped: {dict(counts)})"
      problems.append(f"action {action!r} {where} in {root}")
  if problems:
    raise DataError("; ".join(problems) + ". Record that action, fix its files, or remove it from "
                    "config.data.actions.", "empty_class")
  return sequences, np.asarray(labels, np.int32), list(actions), skipped


def write_sequence(folder, x_TF: np.ndarray) -> pathlib.Path:
  """Writes one (T, 1662) sequence as `<folder>/<frame>.npy` files, 0..T-1."""
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  for t in range(len(x_TF)):
    np.save(folder / f"{t}.npy", x_TF[t])
  return folder

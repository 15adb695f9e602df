"""MediaPipe Holistic keypoint sequences: the folder reader and group selection.

On disk: `<root>/<Action>/<sequence>/<frame>.npy`, each frame a (1662,) vector laid out
as pose 33 x (x, y, z, visibility), face 468 x (x, y, z), left hand 21 x (x, y, z),
right hand 21 x (x, y, z), in that order. A hand MediaPipe did not detect is zeros.
With no path, the loader reads the synthetic signs of `research.data.synthetic.keypoints`.
"""

from __future__ import annotations

import collections
import json
import logging
import pathlib
import re
from typing import Sequence

import numpy as np

from research.data import cache
from research.data import dataset as dataset_lib
from research.data import sequences as seq_lib
from research.data import skipped as skipped_lib
from research.data.errors import DataError, DataNotFoundError

# (name, landmarks, values per landmark), in the order MediaPipe's frame vector holds them.
GROUPS = (("pose", 33, 4), ("face", 468, 3), ("left_hand", 21, 3), ("right_hand", 21, 3))
NUM_FEATURES = sum(points * dims for _, points, dims in GROUPS)  # 1662
DEFAULT_ACTIONS = ("Hello", "Thank_You", "Help", "Yes", "No",
                   "Please", "Sorry", "I_Love_You", "Stop", "More")
LAYOUT_TEXT = ("pose 33x4 (x, y, z, visibility), face 468x3, left hand 21x3, right hand 21x3 "
               "= 1662 values per frame, in that order")
SKIP_REASONS = ("missing_frames", "unreadable", "wrong_shape", "non_finite", "empty")
READER_VERSION = 1  # bump when read_folder's output changes, so cached arrays are read afresh


def group_slices() -> dict[str, slice]:
  """Where each group lies in the 1662-vector."""
  out, start = {}, 0
  for name, points, dims in GROUPS:
    out[name] = slice(start, start + points * dims)
    start += points * dims
  return out


def select_groups(groups: Sequence[str] | None) -> tuple[np.ndarray, dict]:
  """Feature indices of `groups` (kept in MediaPipe order) and the resulting layout description."""
  names = [name for name, _, _ in GROUPS]
  groups = list(groups) if groups else names
  unknown = [g for g in groups if g not in names]
  if unknown:
    raise ValueError(f"config.data.keypoint_groups: unknown groups {unknown}; valid: {names}")
  slices = group_slices()
  index, layout, start = [], [], 0
  for name, points, dims in GROUPS:  # MediaPipe order, whatever order the config lists
    if name in groups:
      index.append(np.arange(slices[name].start, slices[name].stop))
      layout.append({"name": name, "points": points, "dims": dims,
                     "start": start, "stop": start + points * dims})
      start += points * dims
  return np.concatenate(index), {"format": "mediapipe_holistic", "groups": layout,
                                 "num_features": start, "source_num_features": NUM_FEATURES,
                                 "keypoint_groups": [g["name"] for g in layout]}


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
    if frame.shape != (NUM_FEATURES,) or frame.dtype.kind not in "fiu":
      return None, "wrong_shape", (f"{path.name}: shape {frame.shape}, dtype {frame.dtype}; expected "
                                   f"({NUM_FEATURES},) numbers")
    rows.append(frame)
  x_TF = np.stack(rows).astype(np.float32)
  if not np.isfinite(x_TF).all():
    return None, "non_finite", f"{int((~np.isfinite(x_TF)).sum())} NaN/Inf values"
  return x_TF, None, ""


def _action_names(root: pathlib.Path) -> list[str]:
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
    actions = _action_names(root)
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


def read_folder_cached(root, actions: Sequence[str] | None, frames: int, cache_dir):
  """`read_folder`, its result kept in the data cache under a digest of every file's bytes.

  Hashing the files is several times faster than parsing thousands of small `.npy` files
  (benchmarks/data_cache.py), and any change to a file, a new or a removed one reads afresh.
  """
  root = pathlib.Path(root)
  if not cache_dir or not root.is_dir():
    return read_folder(root, actions, frames)
  names = list(actions) if actions else _action_names(root)
  paths = [p for name in names if (root / name).is_dir() for p in sorted((root / name).rglob("*"))]
  settings = {"reader": READER_VERSION, "actions": names, "frames": frames,
              "content": cache.content_digest(paths, root)}

  def build():
    sequences, y, class_names, skipped = read_folder(root, names, frames)
    x, _ = seq_lib.pad(sequences)
    return {"x": x, "length": np.asarray([len(s) for s in sequences], np.int32), "y": y,
            "class_names": np.asarray(class_names), "skipped": np.asarray(json.dumps(skipped))}

  stored = cache.cached_arrays(cache_dir, "keypoint_arrays", settings, build)
  sequences = [x_TF[:n] for x_TF, n in zip(stored["x"], stored["length"])]
  return (sequences, np.asarray(stored["y"], np.int32), [str(n) for n in stored["class_names"]],
          json.loads(str(stored["skipped"])))


def synthetic_folder(actions, cfg_synthetic, frames: int, cache_dir) -> pathlib.Path:
  """The synthetic sign dataset for these settings, generated once into the data cache."""
  from research.data.synthetic import keypoints as synthetic  # It reads this module's layout.
  options = {"actions": list(actions), "sequences": int(cfg_synthetic.get("sequences", 30)), "frames": frames,
             "seed": int(cfg_synthetic.get("seed", 0)), "noise_only": int(cfg_synthetic.get("noise_only", 0))}
  settings = {"generator": "keypoints", "version": synthetic.VERSION, "options": options}
  return cache.cached_folder(cache_dir, "keypoints_synthetic", settings,
                             lambda folder: synthetic.generate(folder, **options))


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """The keypoint dataset of `config.data` (generated synthetic data when data.path is empty),
  split with `config.data.split_seed`."""
  actions = list(cfg.get("actions") or ())
  frames = int(cfg.get("frames", 30))
  path = cfg.get("path") or ""
  cache_dir = cfg.get("cache_dir", "")
  source = path
  if not path:
    actions = actions or list(DEFAULT_ACTIONS)
    path = synthetic_folder(actions, cfg.get("synthetic") or {}, frames or 30, cache_dir)
    source = f"synthetic keypoints ({path})"
  sequences, y, class_names, skipped = read_folder_cached(path, actions, frames, cache_dir)
  index, layout = select_groups(cfg.get("keypoint_groups"))
  x, mask = seq_lib.pad([s[:, index] for s in sequences])
  meta = {"source": str(source), "class_names": class_names, "feature_layout": layout,
          "sampling_rate": 30.0,  # frames per second of a typical webcam; not stored in the files
          "skipped": skipped, "max_length": int(x.shape[1]), "num_features": int(x.shape[2])}
  return seq_lib.classification_splits(
      {"x": x, "y": y, "mask": mask}, meta, test=None,
      test_fraction=cfg.get("test_fraction", 0.1), val_fraction=cfg.get("val_fraction", 0.15),
      seed=dataset_lib.split_seed(cfg, seed), normalize=cfg.get("normalize", "none"), where=str(source))

"""MediaPipe Holistic keypoint sequences: the folder reader, group selection, the synthetic generator.

On disk: `<root>/<Action>/<sequence>/<frame>.npy`, each frame a (1662,) vector laid out
as pose 33 x (x, y, z, visibility), face 468 x (x, y, z), left hand 21 x (x, y, z),
right hand 21 x (x, y, z), in that order. A hand MediaPipe did not detect is zeros.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import pathlib
import shutil
import tempfile
from typing import Sequence

import numpy as np

from research.data import dataset as dataset_lib
from research.data import sequences as seq_lib

# (name, landmarks, values per landmark), in the order MediaPipe's frame vector holds them.
GROUPS = (("pose", 33, 4), ("face", 468, 3), ("left_hand", 21, 3), ("right_hand", 21, 3))
NUM_FEATURES = sum(points * dims for _, points, dims in GROUPS)  # 1662
DEFAULT_ACTIONS = ("Hello", "Thank_You", "Help", "Yes", "No",
                   "Please", "Sorry", "I_Love_You", "Stop", "More")
LAYOUT_TEXT = ("pose 33x4 (x, y, z, visibility), face 468x3, left hand 21x3, right hand 21x3 "
               "= 1662 values per frame, in that order")
SKIP_REASONS = ("missing_frames", "unreadable", "wrong_shape", "non_finite", "empty")


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


def _sorted_names(paths):
  """Sorts by number when every name is an integer (0, 1, ..., 10), else by text."""
  paths = list(paths)
  if all(p.stem.isdigit() for p in paths):
    return sorted(paths, key=lambda p: int(p.stem))
  return sorted(paths, key=lambda p: p.name)


def read_sequence(folder: pathlib.Path, frames: int) -> tuple[np.ndarray | None, str | None]:
  """One sequence folder -> ((T, 1662) float32, None), or (None, skip reason).

  frames > 0: frames 0..frames-1 must all be there (extra ones are ignored);
  frames == 0: every numbered frame, which must run 0..n-1 without gaps.
  """
  if frames > 0:
    paths = [folder / f"{i}.npy" for i in range(frames)]
    if not all(p.is_file() for p in paths):
      return None, "missing_frames"
  else:
    numbered = sorted((int(p.stem), p) for p in folder.glob("*.npy") if p.stem.isdigit())
    if not numbered:
      return None, "empty"
    if [n for n, _ in numbered] != list(range(len(numbered))):
      return None, "missing_frames"
    paths = [p for _, p in numbered]
  rows = []
  for path in paths:
    try:
      frame = np.load(path, allow_pickle=False)
    except Exception:  # noqa: BLE001  (any unreadable file is skipped and counted)
      return None, "unreadable"
    if frame.shape != (NUM_FEATURES,) or frame.dtype.kind not in "fiu":
      return None, "wrong_shape"
    rows.append(frame)
  x_TF = np.stack(rows).astype(np.float32)
  if not np.isfinite(x_TF).all():
    return None, "non_finite"
  return x_TF, None


def read_folder(root, actions: Sequence[str] | None = None, frames: int = 30):
  """Reads `<root>/<Action>/<sequence>/<frame>.npy`.

  Returns (sequences list of (T, 1662), labels (N,) int32, class_names, skipped) where
  skipped = {action: {reason: count}} for sequences that were left out. Actions come
  from `actions` or, when empty, from the sub-folder names. An action without any
  usable sequence is an error naming it.
  """
  root = pathlib.Path(root)
  if not root.is_dir():
    raise FileNotFoundError(f"config.data.path={str(root)!r} is not a folder; expected "
                            f"<root>/<Action>/<sequence>/<frame>.npy")
  if not actions:
    actions = [p.name for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    if not actions:
      raise ValueError(f"{root}: no action folders found; expected <root>/<Action>/<sequence>/<frame>.npy")
  sequences, labels = [], []
  skipped = {}
  problems = []
  for label, action in enumerate(actions):
    folder = root / action
    counts = collections.Counter()
    used = 0
    if folder.is_dir():
      for seq_dir in _sorted_names(p for p in folder.iterdir() if p.is_dir()):
        x_TF, reason = read_sequence(seq_dir, frames)
        if reason:
          counts[reason] += 1
          continue
        sequences.append(x_TF)
        labels.append(label)
        used += 1
    if counts:
      skipped[action] = dict(counts)
      logging.warning("%s: skipped %d sequences of %r: %s", root, sum(counts.values()), action,
                      dict(counts))
    if used == 0:
      where = "has no folder" if not folder.is_dir() else f"has no usable sequence (skipped: {dict(counts)})"
      problems.append(f"action {action!r} {where} in {root}")
  if problems:
    raise ValueError("; ".join(problems) + ". Record that action, fix its files, or remove it from "
                     "config.data.actions.")
  return sequences, np.asarray(labels, np.int32), list(actions), skipped


# ---- synthetic data ------------------------------------------------------------------------------

def _hand_shape(extension_F, angle, scale):
  """21 (x, y) hand landmarks: wrist, then 4 joints per finger fanning out by `angle`."""
  points = [np.zeros(2)]
  for finger, ext in enumerate(extension_F):
    direction = angle + (finger - 2) * 0.35
    unit = np.array([np.cos(direction), -np.sin(direction)])
    for joint in range(1, 5):
      points.append(unit * scale * (0.02 + 0.012 * joint * (0.3 + 0.7 * ext)))
  return np.stack(points)


def _smooth_curve(rng, dims, amplitude):
  """Coefficients of a smooth periodic curve: sum of 3 harmonics per dimension."""
  return {"amp": rng.uniform(-amplitude, amplitude, (3, dims)) / np.arange(1, 4)[:, None],
          "phase": rng.uniform(0, 2 * np.pi, (3, dims))}


def _curve(coef, s_T):
  k = np.arange(1, 4)[None, :, None]
  return (coef["amp"][None] * np.sin(2 * np.pi * k * s_T[:, None, None] + coef["phase"][None])).sum(1)


def _sign_program(rng):
  """Everything that defines one sign: hand paths, finger extension, hand angle, one or two hands."""
  return {"right": _smooth_curve(rng, 2, 0.12), "left": _smooth_curve(rng, 2, 0.12),
          "right_base": rng.uniform([-0.05, -0.15], [0.12, 0.05]),
          "left_base": rng.uniform([-0.12, -0.15], [0.05, 0.05]),
          "fingers": rng.uniform(0, 1, (2, 5)), "finger_motion": rng.uniform(-0.5, 0.5, (2, 5)),
          "angle": rng.uniform(0.8, 2.3, 2), "turn": rng.uniform(-1.0, 1.0, 2),
          "two_handed": bool(rng.random() < 0.6)}


def _render(program, frames, rng, subject):
  """One (frames, 1662) sequence of a sign, performed by `subject` with per-take variation."""
  warp = rng.uniform(0.8, 1.25)
  start = rng.uniform(-0.05, 0.05)
  s_T = np.clip(start + np.linspace(0, 1, frames) ** warp, 0, 1)
  gain = rng.uniform(0.85, 1.15)
  centre = subject["centre"] + rng.normal(0, 0.01, 2)
  scale = subject["scale"]
  out = np.zeros((frames, NUM_FEATURES), np.float32)
  sl = group_slices()
  # Pose: a body template moved with the subject, wrists/elbows following the hands.
  pose = np.tile(subject["pose"], (frames, 1, 1)).copy()  # (T, 33, 4)
  pose[:, :, :2] = centre + scale * (pose[:, :, :2] - 0.5)
  hands = {}
  for h, side in enumerate(("left", "right")):
    path_T2 = program[f"{side}_base"] + gain * _curve(program[side], s_T)
    if side == "left" and not program["two_handed"]:
      path_T2 = np.array([-0.12, 0.25]) + 0.1 * _curve(program[side], s_T)  # resting hand
    wrist_T2 = centre + scale * path_T2
    shoulder = pose[:, 11 + h, :2]
    pose[:, 15 + h, :2] = wrist_T2
    pose[:, 13 + h, :2] = 0.5 * (shoulder + wrist_T2) + np.array([0.03 * (1 - 2 * h), 0.04])
    ext_T5 = np.clip(program["fingers"][h] + program["finger_motion"][h] * np.sin(np.pi * s_T)[:, None], 0, 1)
    angle_T = program["angle"][h] + program["turn"][h] * s_T
    shape = np.stack([_hand_shape(ext_T5[t], angle_T[t], scale) for t in range(frames)])
    xyz = np.zeros((frames, 21, 3))
    xyz[:, :, :2] = wrist_T2[:, None, :] + shape
    xyz[:, :, 2] = -0.02 * np.arange(21)[None, :] / 21 + rng.normal(0, 0.003, (frames, 21))
    hands[side] = xyz
  head_T2 = 0.01 * np.sin(2 * np.pi * (s_T[:, None] + subject["head_phase"]))
  face = np.tile(subject["face"], (frames, 1, 1)).copy()
  face[:, :, :2] = centre + scale * (face[:, :, :2] - 0.5) + head_T2[:, None, :]
  out[:, sl["pose"]] = pose.reshape(frames, -1)
  out[:, sl["face"]] = face.reshape(frames, -1)
  out[:, sl["left_hand"]] = hands["left"].reshape(frames, -1)
  out[:, sl["right_hand"]] = hands["right"].reshape(frames, -1)
  out += rng.normal(0, 0.004, out.shape).astype(np.float32)  # landmark jitter
  for side in ("left_hand", "right_hand"):  # MediaPipe writes zeros for an undetected hand
    lost = rng.random(frames) < subject["hand_loss"]
    out[np.ix_(lost, np.arange(sl[side].start, sl[side].stop))] = 0.0
  return out


def _subjects(rng, count):
  template = np.random.default_rng(12345)
  pose = np.zeros((33, 4))
  pose[:11, :2] = [0.5, 0.3] + template.normal(0, 0.03, (11, 2))  # head
  pose[11:, :2] = [0.5, 0.7] + template.normal(0, 0.12, (22, 2)) * [1.0, 1.5]
  pose[11:13, :2] = [[0.38, 0.5], [0.62, 0.5]]  # shoulders
  pose[:, 2] = template.normal(0, 0.05, 33)
  pose[:, 3] = np.where(np.arange(33) < 25, 0.98, 0.3)  # visibility; legs mostly out of frame
  angle = template.uniform(0, 2 * np.pi, 468)
  radius = np.sqrt(template.uniform(0, 1, 468))
  face = np.stack([0.5 + 0.06 * radius * np.cos(angle), 0.3 + 0.08 * radius * np.sin(angle),
                   template.normal(0, 0.02, 468)], 1)
  return [{"centre": np.array([0.5, 0.5]) + rng.normal(0, 0.04, 2), "scale": rng.uniform(0.85, 1.15),
           "pose": pose, "face": face, "head_phase": rng.uniform(0, 1),
           "hand_loss": rng.uniform(0.0, 0.04)} for _ in range(count)]


def generate(out_dir, actions=10, sequences: int = 30, frames: int = 30, seed: int = 0,
             subjects: int = 5, noise_only: int = 0) -> pathlib.Path:
  """Writes a learnable synthetic sign dataset in the MediaPipe folder layout.

  actions: a count (named after the seed's signs, then Sign_11, ...) or a list of names.
  Each sign is a fixed smooth trajectory of both hands (finger extension, hand angle,
  one- or two-handed); every sequence is a take by one of `subjects` people (body
  position and size, head motion, hand-tracking loss rate) with its own speed, timing
  and amplitude, plus landmark noise. noise_only=1 makes every take an unrelated random
  sign, so labels carry no information (for testing that reports say so).
  """
  if isinstance(actions, str):
    actions = [a for a in actions.split(",") if a]
  if isinstance(actions, int):
    actions = [DEFAULT_ACTIONS[i] if i < len(DEFAULT_ACTIONS) else f"Sign_{i + 1}" for i in range(actions)]
  if frames <= 0 or sequences <= 0 or not actions:
    raise ValueError(f"keypoints generator: need actions, sequences > 0 and frames > 0; got "
                     f"{len(actions)}, {sequences}, {frames}")
  out = pathlib.Path(out_dir)
  rng = np.random.default_rng(seed)
  programs = [_sign_program(rng) for _ in actions]
  people = _subjects(rng, subjects)
  for a, action in enumerate(actions):
    for s in range(sequences):
      program = _sign_program(rng) if noise_only else programs[a]
      x_TF = _render(program, frames, rng, people[(a + s) % subjects])
      folder = out / action / str(s)
      folder.mkdir(parents=True, exist_ok=True)
      for t in range(frames):
        np.save(folder / f"{t}.npy", x_TF[t])
  info = {"generator": "research.data.keypoints.generate", "actions": list(actions),
          "sequences": sequences, "frames": frames, "seed": seed, "subjects": subjects,
          "noise_only": int(noise_only), "layout": LAYOUT_TEXT}
  (out / "synthetic.json").write_text(json.dumps(info, indent=2) + "\n")
  return out


GENERATOR_VERSION = 1


def _cache_root() -> pathlib.Path:
  return pathlib.Path(os.environ.get("RESEARCH_DATA_CACHE",
                                     pathlib.Path(__file__).resolve().parents[2] / "data_cache"))


def cached_synthetic(actions, sequences, frames, seed, noise_only=0) -> pathlib.Path:
  """The synthetic dataset for these settings, generated once into the cache folder.

  Generated into a temporary folder and renamed, so a half-written dataset is never read.
  """
  spec = json.dumps([GENERATOR_VERSION, list(actions), sequences, frames, seed, int(noise_only)])
  key = hashlib.sha1(spec.encode()).hexdigest()[:10]
  path = _cache_root() / f"keypoints_{key}"
  if not path.is_dir():
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
      generate(tmp, actions=list(actions), sequences=sequences, frames=frames, seed=seed,
               noise_only=noise_only)
      os.replace(tmp, path)
    except OSError:
      if not path.is_dir():
        raise
    finally:
      shutil.rmtree(tmp, ignore_errors=True)
  return path


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """The keypoint dataset of `config.data` (generated synthetic data when data.path is empty)."""
  del seed  # The split has its own seed, config.data.split_seed (the seed's random_state=42).
  actions = list(cfg.get("actions") or ())
  frames = int(cfg.get("frames", 30))
  path = cfg.get("path") or ""
  source = path
  if not path:
    syn = cfg.get("synthetic") or {}
    if not actions:
      actions = list(DEFAULT_ACTIONS)
    path = cached_synthetic(actions, syn.get("sequences", 30), frames or 30, syn.get("seed", 0),
                            syn.get("noise_only", 0))
    source = f"synthetic keypoints ({path})"
  sequences, y, class_names, skipped = read_folder(path, actions, frames)
  index, layout = select_groups(cfg.get("keypoint_groups"))
  x, mask = seq_lib.pad([s[:, index] for s in sequences])
  meta = {"source": str(source), "class_names": class_names, "feature_layout": layout,
          "sampling_rate": 30.0,  # frames per second of a typical webcam; not stored in the files
          "skipped": skipped, "skipped_total": sum(sum(c.values()) for c in skipped.values()),
          "max_length": int(x.shape[1]), "num_features": int(x.shape[2])}
  return seq_lib.classification_splits(
      {"x": x, "y": y, "mask": mask}, meta, test=None,
      test_fraction=cfg.get("test_fraction", 0.1), val_fraction=cfg.get("val_fraction", 0.15),
      seed=cfg.get("split_seed", 42), normalize=cfg.get("normalize", "none"))

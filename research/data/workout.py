"""Workout recordings: joint angles per frame, the exercise per frame, repetition starts.

On disk a recording is one `.npz` per session:
  angles      (T, 25) float  joint angles in degrees, columns in `JOINT_NAMES` order
  fps         ()      float  frames per second (30 for the seed)
  exercise    (T,)    str or int  the exercise per frame; ints index `class_names`
  class_names (C,)    str    (needed when `exercise` holds ints)
  rep_starts  (R,)    int    frame index where each repetition begins, ascending
  joint_names (25,)   str    optional; checked against the expected layout when present

`load` windows the recordings of a folder (split by recording, never by window) and
`generate` writes synthetic sessions in that format (`launch/make_data.py workout`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import pathlib
import shutil
import tempfile

import numpy as np

from research.data import dataset as dataset_lib

CLASS_NAMES = ("push-up", "squat", "pull-up", "dip", "none")
NONE_CLASS = "none"

_PAIRED = ("shoulder_flexion", "shoulder_abduction", "shoulder_rotation", "elbow", "wrist",
           "hip_flexion", "hip_abduction", "knee", "ankle", "toe")
JOINT_NAMES = (("neck", "trunk_flexion", "trunk_lateral", "trunk_rotation", "body_inclination")
               + tuple(f"{side}_{joint}" for joint in _PAIRED for side in ("left", "right")))
ANGLE_CENTER = 90.0  # degrees; model input is (angle - center) / scale
ANGLE_SCALE = 45.0


# ----------------------------------------------------------------------------- reading


@dataclasses.dataclass
class Recording:
  name: str
  path: str
  angles: np.ndarray  # (T, F) float32 degrees
  fps: float
  exercise: np.ndarray | None  # (T,) int32 index into class_names; None when unlabelled
  rep_starts: np.ndarray | None  # (R,) int32 ascending; None when unlabelled


def read_recording(path, class_names=CLASS_NAMES, num_features: int = len(JOINT_NAMES),
                   require_labels: bool = True) -> Recording:
  """Reads and checks one recording `.npz`; errors name the file, the key and what was found.

  With `require_labels=False` a file of only `angles` and `fps` is accepted (for counting
  new sessions); its `exercise` and `rep_starts` are then None.
  """
  path = pathlib.Path(path)
  try:
    with np.load(path, allow_pickle=False) as f:
      data = {key: f[key] for key in f.files}
  except Exception as error:  # noqa: BLE001 - any unreadable file gets the same message
    raise ValueError(f"{path}: cannot read as .npz ({error}); write recordings with numpy.savez") from error
  required = ("angles", "fps", "exercise", "rep_starts") if require_labels else ("angles", "fps")
  for key in required:
    if key not in data:
      raise ValueError(f"{path}: missing key {key!r}; found {sorted(data)}. A recording needs angles "
                       "(T, 25), fps, exercise (T,) and rep_starts (R,)")
  angles = np.asarray(data["angles"], np.float32)
  if angles.ndim != 2 or angles.shape[1] != num_features:
    raise ValueError(f"{path}: 'angles' must be (frames, {num_features}) joint angles in degrees; "
                     f"found shape {angles.shape}")
  if not np.isfinite(angles).all():
    raise ValueError(f"{path}: 'angles' holds {int((~np.isfinite(angles)).sum())} NaN/Inf values; "
                     "interpolate missing frames before saving")
  if "joint_names" in data and tuple(str(n) for n in data["joint_names"]) != JOINT_NAMES[:num_features]:
    raise ValueError(f"{path}: 'joint_names' {list(data['joint_names'])} differ from the expected "
                     f"layout {list(JOINT_NAMES)}; reorder the columns of 'angles'")
  num_frames = len(angles)
  fps = float(np.asarray(data["fps"]).reshape(()))
  if not fps > 0:
    raise ValueError(f"{path}: 'fps' must be a positive number; found {data['fps']!r}")
  if "exercise" not in data or "rep_starts" not in data:
    return Recording(name=path.stem, path=str(path), angles=angles, fps=fps, exercise=None, rep_starts=None)
  exercise = np.asarray(data["exercise"])
  if exercise.shape != (num_frames,):
    raise ValueError(f"{path}: 'exercise' must give one label per frame, shape ({num_frames},); "
                     f"found {exercise.shape}")
  names = list(class_names)
  if exercise.dtype.kind in "US":
    file_names = [str(n) for n in np.unique(exercise)]
  elif exercise.dtype.kind in "iu":
    if "class_names" not in data:
      raise ValueError(f"{path}: 'exercise' holds integers but the file has no 'class_names' to say "
                       "what they mean; add class_names (C,) or store exercise as strings")
    own = [str(n) for n in data["class_names"]]
    if exercise.size and (exercise.min() < 0 or exercise.max() >= len(own)):
      raise ValueError(f"{path}: 'exercise' indices must lie in [0, {len(own)}); found "
                       f"[{exercise.min()}, {exercise.max()}]")
    exercise = np.asarray(own)[exercise]
    file_names = sorted(set(own[i] for i in np.unique(data["exercise"])))
  else:
    raise ValueError(f"{path}: 'exercise' must hold strings or ints; found dtype {exercise.dtype}")
  unknown = sorted(set(file_names) - set(names))
  if unknown:
    raise ValueError(f"{path}: exercises {unknown} are not among the configured classes {names}; "
                     "set config.data.class_names or relabel the file")
  lookup = {name: i for i, name in enumerate(names)}
  exercise_T = np.asarray([lookup[str(e)] for e in exercise], np.int32)
  rep_starts = np.asarray(data["rep_starts"]).reshape(-1)
  if rep_starts.dtype.kind not in "iu":
    raise ValueError(f"{path}: 'rep_starts' must be integer frame indices; found dtype {rep_starts.dtype}")
  rep_starts = rep_starts.astype(np.int32)
  if rep_starts.size and (rep_starts.min() < 0 or rep_starts.max() >= num_frames):
    raise ValueError(f"{path}: 'rep_starts' must lie in [0, {num_frames}); found "
                     f"[{rep_starts.min()}, {rep_starts.max()}]")
  if np.any(np.diff(rep_starts) <= 0):
    raise ValueError(f"{path}: 'rep_starts' must be strictly ascending frame indices")
  return Recording(name=path.stem, path=str(path), angles=angles, fps=fps, exercise=exercise_T,
                   rep_starts=rep_starts)


def angles_to_input(angles_TF) -> np.ndarray:
  """Model input from degrees: a fixed affine map, so no statistics travel with a model."""
  return ((np.asarray(angles_TF, np.float32) - ANGLE_CENTER) / ANGLE_SCALE).astype(np.float32)


def sets_of(exercise_T, rep_starts, none_index: int) -> list[dict]:
  """Contiguous runs of one exercise (not `none`) with the repetitions that start inside them."""
  exercise_T = np.asarray(exercise_T)
  change = np.flatnonzero(np.diff(exercise_T)) + 1
  bounds = np.concatenate([[0], change, [len(exercise_T)]])
  sets = []
  for start, end in zip(bounds[:-1], bounds[1:]):
    label = int(exercise_T[start])
    if label == none_index:
      continue
    inside = [int(s) for s in rep_starts if start <= s < end]
    sets.append({"start": int(start), "end": int(end), "label": label, "rep_starts": inside,
                 "count": len(inside)})
  return sets


# ----------------------------------------------------------------------------- windows


def sigma_from_half_width(half_width: float) -> float:
  """Gaussian sigma whose value is 0.5 at +-half_width frames (the seed: 0.5 at +-4)."""
  return half_width / math.sqrt(2.0 * math.log(2.0))


def rep_start_target(num_frames: int, rep_starts, half_width: float) -> np.ndarray:
  """(T,) float32: 1 at each repetition start, falling to 0.5 at +-half_width frames.

  Overlapping bumps take the maximum, so two close starts never exceed 1.
  """
  target = np.zeros(num_frames, np.float32)
  if len(rep_starts) == 0:
    return target
  sigma = sigma_from_half_width(half_width)
  frames = np.arange(num_frames, dtype=np.float64)
  # The maximum of the bumps is the bump of the nearest start: O(T log R), any recording length.
  starts = np.sort(np.asarray(rep_starts, np.float64))
  after = np.clip(np.searchsorted(starts, frames), 0, len(starts) - 1)
  before = np.clip(after - 1, 0, len(starts) - 1)
  nearest = np.minimum(np.abs(frames - starts[after]), np.abs(frames - starts[before]))
  return np.exp(-0.5 * (nearest / sigma) ** 2).astype(np.float32)


def window_starts(num_frames: int, window: int, stride: int) -> np.ndarray:
  """Starts every `stride` frames, plus a last window flush with the end so every frame is covered."""
  if window < 1 or stride < 1:
    raise ValueError(f"config.data.window and stride must be positive frame counts; found window={window}, "
                     f"stride={stride}")
  if num_frames < window:
    return np.zeros(0, np.int32)
  starts = np.arange(0, num_frames - window + 1, stride)
  if starts[-1] != num_frames - window:
    starts = np.append(starts, num_frames - window)
  return starts.astype(np.int32)


def window_label(exercise_NW, num_classes: int, mode: str) -> np.ndarray:
  """(N,) label per window: the most frequent frame label ('majority', ties to the lower index)
  or the label of frame W // 2 ('center')."""
  if mode == "center":
    return exercise_NW[:, exercise_NW.shape[1] // 2].astype(np.int32)
  if mode == "majority":
    counts = np.stack([(exercise_NW == c).sum(1) for c in range(num_classes)], axis=1)
    return counts.argmax(1).astype(np.int32)
  raise ValueError(f"config.data.label_mode must be 'majority' or 'center'; found {mode!r}")


def input_windows(angles_TF, window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
  """(x (N, W, F) model input, starts (N,)) of a recording's angles in degrees."""
  starts = window_starts(len(angles_TF), window, stride)
  x = angles_to_input(angles_TF)
  return x[starts[:, None] + np.arange(window)[None, :]], starts


def make_windows(recording: Recording, *, window: int, stride: int, half_width: float,
                 num_classes: int, label_mode: str = "majority", delay: int = 0) -> dict[str, np.ndarray]:
  """Windows of one recording.

  x (N, W, F) model input, y (N,) exercise label, seg (N, W) Gaussian rep-start target,
  has_start (N,) 1 where a (target) repetition start lies inside the window, start (N,) first frame.
  With `delay` d > 0 the target marks frame start + d instead: a causal model can only
  recognise a repetition some frames after it began (counting shifts its peaks back by d).
  """
  num_frames = len(recording.angles)
  x_NWF, starts = input_windows(recording.angles, window, stride)
  offsets_NW = starts[:, None] + np.arange(window)[None, :]
  marked = recording.rep_starts + int(delay)
  marked = marked[marked < num_frames]
  target_T = rep_start_target(num_frames, marked, half_width)
  is_start_T = np.zeros(num_frames, bool)
  is_start_T[marked] = True
  return {
      "x": x_NWF,
      "y": window_label(recording.exercise[offsets_NW], num_classes, label_mode),
      "seg": target_T[offsets_NW].reshape(len(starts), window),
      "has_start": is_start_T[offsets_NW].any(1).astype(np.int32),
      "start": starts,
  }


def split_recordings(names: list[str], val_fraction: float, test_fraction: float,
                     seed: int) -> dict[str, list[str]]:
  """Assigns whole recordings to train/val/test (at least one each), shuffled by `seed`."""
  if len(names) < 3:
    raise ValueError(f"Workout data needs at least 3 recordings (train, val, test); found {len(names)}. "
                     "Record or generate more sessions (launch/make_data.py workout --sessions N)")
  order = np.random.default_rng(seed).permutation(sorted(names))
  n = len(order)
  n_test = min(max(1, round(test_fraction * n)), n - 2)
  n_val = min(max(1, round(val_fraction * n)), n - 1 - n_test)
  return {"test": sorted(order[:n_test].tolist()), "val": sorted(order[n_test:n_test + n_val].tolist()),
          "train": sorted(order[n_test + n_val:].tolist())}


# ----------------------------------------------------------------------------- loader


def _as_dict(value) -> dict:
  return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def _cache_dir(cfg) -> pathlib.Path:
  options = _as_dict(cfg.generator)
  digest = hashlib.sha1(json.dumps(options, sort_keys=True).encode()).hexdigest()[:10]
  return pathlib.Path(cfg.cache_dir) / f"workout_{digest}"


def _ensure_generated(cfg) -> pathlib.Path:
  """The embedded synthetic sessions, generated once into the cache folder."""
  folder = _cache_dir(cfg)
  if not (folder / "DONE").exists():
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
      generate(str(tmp), **_as_dict(cfg.generator))
      (tmp / "DONE").write_text("ok\n")
      if folder.exists():  # half-written by an interrupted run
        shutil.rmtree(folder)
      os.replace(tmp, folder)
    except BaseException:
      shutil.rmtree(tmp, ignore_errors=True)
      raise
  return folder


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """Windows of every recording in `cfg.path` (or the embedded synthetic sessions), split by recording.

  Train and validation windows use `cfg.stride`; test windows use `cfg.eval_stride` and carry
  `recording` and `start`, so a report can stitch per-frame probabilities over whole sessions.
  """
  folder = pathlib.Path(cfg.path) if cfg.path else _ensure_generated(cfg)
  if not folder.is_dir():
    raise ValueError(f"config.data.path={str(folder)!r} is not a folder; give a folder of recording "
                     ".npz files or leave it empty for the embedded synthetic sessions")
  files = sorted(folder.glob("*.npz"))
  if not files:
    raise ValueError(f"config.data.path={str(folder)!r} holds no .npz recordings")
  class_names = tuple(cfg.class_names)
  if NONE_CLASS not in class_names:
    raise ValueError(f"config.data.class_names must include {NONE_CLASS!r} (frames outside sets); "
                     f"found {list(class_names)}")
  recordings, skipped = {}, {}
  for path in files:
    try:
      rec = read_recording(path, class_names)
    except ValueError as error:
      logging.warning("Skipping recording: %s", error)
      skipped[path.name] = str(error)
      continue
    if abs(rec.fps - cfg.fps) > 1e-6:
      raise ValueError(f"{path}: recorded at {rec.fps:g} fps but config.data.fps is {cfg.fps:g}; "
                       "windows are counted in frames, so resample the recording or change config.data.fps")
    if len(rec.angles) < cfg.window:
      skipped[path.name] = f"{len(rec.angles)} frames, shorter than one window of {cfg.window}"
      continue
    recordings[rec.name] = rec
  if len(recordings) < 3 and skipped:
    raise ValueError(f"{folder}: only {len(recordings)} usable recordings (3 needed); skipped "
                     f"{len(skipped)}: {skipped}")
  assignment = split_recordings(list(recordings), cfg.val_fraction, cfg.test_fraction,
                                seed if cfg.split_seed is None else cfg.split_seed)
  none_index = class_names.index(NONE_CLASS)
  splits, described = {}, {}
  for split_name, names in assignment.items():
    stride = cfg.eval_stride if split_name == "test" else cfg.stride
    parts = []
    for index, name in enumerate(names):
      rec = recordings[name]
      part = make_windows(rec, window=cfg.window, stride=stride, half_width=cfg.target_half_width,
                          num_classes=len(class_names), label_mode=cfg.label_mode,
                          delay=cfg.get("target_delay", 0))
      part["recording"] = np.full(len(part["y"]), index, np.int32)
      parts.append(part)
    splits[split_name] = dataset_lib.concatenate(*parts)
    described[split_name] = [
        {"name": name, "path": recordings[name].path, "num_frames": len(recordings[name].angles),
         "sets": sets_of(recordings[name].exercise, recordings[name].rep_starts, none_index)}
        for name in names]
  meta = {
      "source": f"workout recordings in {folder}" + ("" if cfg.path else " (embedded synthetic sessions)"),
      "class_names": list(class_names),
      "none_class": NONE_CLASS,
      "feature_layout": list(JOINT_NAMES),
      "input_scaling": {"center": ANGLE_CENTER, "scale": ANGLE_SCALE, "unit": "degrees"},
      "sampling_rate": cfg.fps,
      "window": cfg.window,
      "stride": {"train": cfg.stride, "val": cfg.stride, "test": cfg.eval_stride},
      "label_mode": cfg.label_mode,
      "target_half_width": cfg.target_half_width,
      "target_delay": cfg.get("target_delay", 0),
      "recordings": described,
      "skipped": {"recordings": len(skipped), "reasons": skipped},
      "skipped_total": len(skipped),
      "counting": _as_dict(cfg.counting),
  }
  return dataset_lib.Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)


# ----------------------------------------------------------------------------- generator

# Joint angles (degrees) at the rest ("top") pose and at the far end of one repetition.
# Paired joints get the same value on both sides; unnamed joints keep the standing pose.
_STANDING = {"neck": 170.0, "trunk_flexion": 5.0, "trunk_lateral": 0.0, "trunk_rotation": 0.0,
             "body_inclination": 5.0, "shoulder_flexion": 15.0, "shoulder_abduction": 10.0,
             "shoulder_rotation": 45.0, "elbow": 165.0, "wrist": 175.0, "hip_flexion": 175.0,
             "hip_abduction": 8.0, "knee": 175.0, "ankle": 95.0, "toe": 170.0}
_POSES = {
    "push-up": ({"body_inclination": 80.0, "neck": 160.0, "shoulder_flexion": 80.0,
                 "shoulder_abduction": 30.0, "elbow": 170.0, "wrist": 95.0, "ankle": 110.0, "toe": 120.0},
                {"body_inclination": 88.0, "shoulder_flexion": 35.0, "shoulder_abduction": 50.0,
                 "elbow": 80.0, "wrist": 70.0}),
    "squat": ({"shoulder_flexion": 20.0},
              {"hip_flexion": 80.0, "knee": 75.0, "ankle": 65.0, "trunk_flexion": 35.0,
               "body_inclination": 35.0, "shoulder_flexion": 85.0}),
    "pull-up": ({"shoulder_flexion": 170.0, "shoulder_abduction": 25.0, "elbow": 172.0, "knee": 150.0,
                 "ankle": 125.0, "wrist": 170.0},
                {"shoulder_flexion": 55.0, "shoulder_abduction": 40.0, "elbow": 55.0, "neck": 150.0,
                 "hip_flexion": 160.0, "knee": 135.0}),
    "dip": ({"shoulder_flexion": 10.0, "elbow": 172.0, "knee": 100.0, "hip_flexion": 165.0,
             "body_inclination": 10.0, "wrist": 100.0},
            {"shoulder_flexion": 50.0, "elbow": 85.0, "body_inclination": 28.0, "trunk_flexion": 20.0,
             "wrist": 80.0}),
}


def _pose_vector(overrides: dict, base: dict | None = None) -> np.ndarray:
  pose = dict(_STANDING if base is None else base)
  pose.update(overrides)
  values = []
  for name in JOINT_NAMES:
    key = name.split("_", 1)[1] if name.startswith(("left_", "right_")) else name
    values.append(pose[key])
  return np.asarray(values, np.float64)


def _smooth_noise(rng, num_frames: int, num_features: int, scale: float, smooth: int) -> np.ndarray:
  """Low-pass Gaussian noise (moving average of `smooth` frames), unit variance times `scale`."""
  raw = rng.normal(size=(num_frames + smooth, num_features))
  kernel = np.ones(smooth) / math.sqrt(smooth)
  out = np.stack([np.convolve(raw[:, j], kernel, mode="valid")[:num_frames] for j in range(num_features)], 1)
  return scale * out


def _rep_profile(num_frames: int, down_share: float, hold: int) -> np.ndarray:
  """0 -> 1 -> 0 over one repetition: cosine ramps, eccentric share `down_share`, a hold at the bottom."""
  moving = max(num_frames - hold, 4)
  down = max(int(round(moving * down_share)), 2)
  up = max(moving - down, 2)
  ramp_down = 0.5 - 0.5 * np.cos(np.pi * np.arange(down) / down)
  ramp_up = 0.5 + 0.5 * np.cos(np.pi * np.arange(up) / up)
  return np.concatenate([ramp_down, np.ones(hold), ramp_up])[:num_frames]


def _transition(start: np.ndarray, end: np.ndarray, num_frames: int) -> np.ndarray:
  s = 0.5 - 0.5 * np.cos(np.pi * np.arange(num_frames) / max(num_frames, 1))
  return start[None] + s[:, None] * (end - start)[None]


def synthesize_session(rng, *, fps: float = 30.0, sets_per_exercise: int = 2, min_reps: int = 4,
                       max_reps: int = 10, noise_std: float = 1.5, exercises=CLASS_NAMES[:4]):
  """One session: (angles (T, 25), exercise names (T,), rep_starts (R,)).

  Sets of every exercise in random order, separated by `none` stretches (standing, walking,
  stretching gestures, getting into position). Per subject: joint offsets, range of motion
  and tempo; per repetition: duration, range, eccentric share, bottom hold and top pause.
  """
  sec = lambda lo, hi: max(1, int(round(rng.uniform(lo, hi) * fps)))
  offsets = rng.normal(0.0, 4.0, len(JOINT_NAMES))
  subject_rom = rng.uniform(0.85, 1.1)
  subject_tempo = rng.uniform(0.8, 1.25)
  standing = _pose_vector({}) + offsets
  pieces, labels, rep_starts = [], [], []
  frame = 0

  def emit(angles, label):
    nonlocal frame
    pieces.append(angles)
    labels.extend([label] * len(angles))
    frame += len(angles)

  def idle(num_frames, start_pose):
    """Standing/walking with slow drift and an occasional arm gesture (not a repetition)."""
    angles = np.repeat(start_pose[None], num_frames, 0) + _smooth_noise(
        rng, num_frames, len(JOINT_NAMES), 2.5, max(int(fps // 2), 2))
    if num_frames > fps and rng.random() < 0.5:  # one stretch: arms up and down once
      length = min(num_frames, sec(1.0, 2.5))
      at = rng.integers(0, num_frames - length + 1)
      raise_pose = _pose_vector({"shoulder_flexion": rng.uniform(60, 160), "elbow": rng.uniform(120, 175)})
      bump = _rep_profile(length, 0.5, 0)[:, None] * (raise_pose + offsets - start_pose)[None]
      angles[at:at + length] += bump * rng.uniform(0.4, 1.0)
    return angles

  order = [e for e in exercises for _ in range(sets_per_exercise)]
  rng.shuffle(order)
  emit(idle(sec(2.0, 5.0), standing), NONE_CLASS)
  for name in order:
    rest_delta, peak_delta = _POSES[name]
    rest = _pose_vector(rest_delta) + offsets
    peak = _pose_vector(peak_delta, base={**_STANDING, **rest_delta}) + offsets
    emit(_transition(standing, rest, sec(0.8, 2.0)), NONE_CLASS)  # getting into position
    emit(np.repeat(rest[None], sec(0.3, 1.0), 0), name)  # ready in the top position
    num_reps = int(rng.integers(min_reps, max_reps + 1))
    for rep in range(num_reps):
      fatigue = 1.0 + 0.25 * rep / max(num_reps - 1, 1) * rng.uniform(0, 1)
      length = sec(1.3, 2.6) * subject_tempo * fatigue
      length = max(int(length), int(0.8 * fps))
      hold = int(rng.uniform(0, 0.25) * length)
      profile = _rep_profile(length, rng.uniform(0.45, 0.65), hold)
      rom = subject_rom * rng.uniform(0.75, 1.05)
      per_joint = 1.0 + rng.normal(0, 0.05, len(JOINT_NAMES))  # sides and joints differ a little
      rep_starts.append(frame)
      emit(rest[None] + profile[:, None] * (rom * per_joint * (peak - rest))[None], name)
      if rep < num_reps - 1 and rng.random() < 0.7:
        pause = sec(0.05, 0.6) if rng.random() < 0.9 else sec(1.0, 2.5)
        emit(np.repeat(rest[None], pause, 0), name)
    emit(np.repeat(rest[None], sec(0.2, 0.6), 0), name)
    emit(_transition(rest, standing, sec(0.8, 2.0)), NONE_CLASS)  # getting up / off the bar
    emit(idle(sec(3.0, 8.0), standing), NONE_CLASS)
  angles = np.concatenate(pieces, 0)
  angles += _smooth_noise(rng, len(angles), len(JOINT_NAMES), 0.7, 5)  # body sway, tracking jitter
  angles += rng.normal(0.0, noise_std, angles.shape)  # per-frame sensor noise
  angles = np.clip(angles, 0.0, 180.0)
  return angles.astype(np.float32), np.asarray(labels), np.asarray(rep_starts, np.int32)


def generate(out_dir: str, sessions: int = 12, seed: int = 0, fps: float = 30.0,
             sets_per_exercise: int = 2, min_reps: int = 4, max_reps: int = 10,
             noise_std: float = 1.5) -> list[str]:
  """Writes `sessions` synthetic recordings `session_000.npz`, ... into `out_dir`; returns the paths."""
  if sessions < 1 or min_reps < 1 or max_reps < min_reps:
    raise ValueError(f"workout generator: need sessions >= 1 and 1 <= min_reps <= max_reps; found "
                     f"sessions={sessions}, min_reps={min_reps}, max_reps={max_reps}")
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  paths = []
  for index in range(int(sessions)):
    rng = np.random.default_rng([int(seed), index])
    angles, exercise, rep_starts = synthesize_session(
        rng, fps=float(fps), sets_per_exercise=int(sets_per_exercise), min_reps=int(min_reps),
        max_reps=int(max_reps), noise_std=float(noise_std))
    path = out / f"session_{index:03d}.npz"
    np.savez(path, angles=angles, fps=np.float32(fps), exercise=exercise.astype("U16"),
             class_names=np.asarray(CLASS_NAMES), rep_starts=rep_starts,
             joint_names=np.asarray(JOINT_NAMES))
    paths.append(str(path))
  return paths

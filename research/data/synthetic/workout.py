"""Synthetic workout sessions in the recording format `research.data.formats.workout` reads.

`generate` writes `session_000.npz`, ... (`launch/make_data.py workout`); each session holds
sets of every exercise with per-subject and per-repetition variation, separated by `none`
stretches (standing, walking, stretching gestures, getting into position).
"""

from __future__ import annotations

import math
import pathlib

import numpy as np

from research.data.errors import DataError
from research.data.formats.workout import write_recording
from research.data.layouts import JOINT_NAMES, NONE_CLASS, WORKOUT_CLASSES

VERSION = 1  # bump when the generated data change, so cached sessions are made again

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
                       max_reps: int = 10, noise_std: float = 1.5, exercises=WORKOUT_CLASSES[:4]):
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
  if not (int(sessions) >= 1 and 1 <= int(min_reps) <= int(max_reps) and float(fps) > 0):
    raise DataError(f"workout generator: need sessions >= 1, 1 <= min_reps <= max_reps and fps > 0; found "
                    f"sessions={sessions}, min_reps={min_reps}, max_reps={max_reps}, fps={fps}. "
                    "Change those options (launch/make_data.py workout --sessions N ...)", "bad_option")
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  paths = []
  for index in range(int(sessions)):
    rng = np.random.default_rng([int(seed), index])
    angles, exercise, rep_starts = synthesize_session(
        rng, fps=float(fps), sets_per_exercise=int(sets_per_exercise), min_reps=int(min_reps),
        max_reps=int(max_reps), noise_std=float(noise_std))
    path = write_recording(out / f"session_{index:03d}.npz", angles, fps, exercise.astype("U16"), rep_starts)
    paths.append(str(path))
  return paths

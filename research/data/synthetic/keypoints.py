"""Synthetic sign-language takes in the MediaPipe Holistic folder layout `research.data.formats.keypoints` reads.

`generate` writes `<out>/<Action>/<sequence>/<frame>.npy` (`launch/make_data.py keypoints`):
each sign is a fixed smooth trajectory of both hands, each take a performance of it by one of
a few simulated people.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

from research.data.errors import DataError
from research.data.formats.keypoints import write_sequence
from research.data.layouts import KEYPOINT_LAYOUT_TEXT, NUM_KEYPOINT_FEATURES, SIGN_ACTIONS, keypoint_slices

VERSION = 1  # bump when the generated data change, so cached folders are made again


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
  out = np.zeros((frames, NUM_KEYPOINT_FEATURES), np.float32)
  sl = keypoint_slices()
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
  if isinstance(actions, int) and actions > 0:
    actions = [SIGN_ACTIONS[i] if i < len(SIGN_ACTIONS) else f"Sign_{i + 1}" for i in range(actions)]
  if isinstance(actions, int) and actions <= 0:
    actions = []
  actions = [str(a) for a in actions]
  if frames <= 0 or sequences <= 0 or subjects <= 0 or not actions:
    raise DataError(f"keypoints generator: need actions (a count > 0 or names), sequences > 0, frames > 0 "
                    f"and subjects > 0; got {len(actions)} actions, sequences={sequences}, frames={frames}, "
                    f"subjects={subjects}. Change those options", "bad_option")
  odd = [a for a in actions if not a or a in (".", "..") or "/" in a or "\\" in a]
  if odd:
    raise DataError(f"keypoints generator: action names {odd} are not plain folder names; use names "
                    "without '/', '\\' or '..'", "bad_option")
  out = pathlib.Path(out_dir)
  rng = np.random.default_rng(seed)
  programs = [_sign_program(rng) for _ in actions]
  people = _subjects(rng, subjects)
  for a, action in enumerate(actions):
    for s in range(sequences):
      program = _sign_program(rng) if noise_only else programs[a]
      x_TF = _render(program, frames, rng, people[(a + s) % subjects])
      write_sequence(out / action / str(s), x_TF)
  info = {"generator": "research.data.synthetic.keypoints.generate", "actions": list(actions),
          "sequences": sequences, "frames": frames, "seed": seed, "subjects": subjects,
          "noise_only": int(noise_only), "layout": KEYPOINT_LAYOUT_TEXT}
  (out / "synthetic.json").write_text(json.dumps(info, indent=2) + "\n")
  return out



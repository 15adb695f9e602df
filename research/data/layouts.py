"""Layouts the readers, the generators and the loaders share: which value sits where, which
classes a format knows.

Keypoints: a MediaPipe Holistic frame is a (1662,) vector of pose 33 x (x, y, z, visibility),
face 468 x (x, y, z), left hand 21 x (x, y, z), right hand 21 x (x, y, z), in that order.
Workout: joint angles in degrees, columns in `JOINT_NAMES` order, one exercise per frame.
HHT files: labels from `MUSCLE_movement_GENDER_###.npz` names, six gender x movement classes.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# ----------------------------------------------------------------------------- keypoints

# (name, landmarks, values per landmark), in the order MediaPipe's frame vector holds them.
KEYPOINT_GROUPS = (("pose", 33, 4), ("face", 468, 3), ("left_hand", 21, 3), ("right_hand", 21, 3))
NUM_KEYPOINT_FEATURES = sum(points * dims for _, points, dims in KEYPOINT_GROUPS)  # 1662
KEYPOINT_LAYOUT_TEXT = ("pose 33x4 (x, y, z, visibility), face 468x3, left hand 21x3, right hand 21x3 "
                        "= 1662 values per frame, in that order")
SIGN_ACTIONS = ("Hello", "Thank_You", "Help", "Yes", "No",
                "Please", "Sorry", "I_Love_You", "Stop", "More")  # the seed's signs, in class order


def keypoint_slices() -> dict[str, slice]:
  """Where each keypoint group lies in the 1662-vector."""
  out, start = {}, 0
  for name, points, dims in KEYPOINT_GROUPS:
    out[name] = slice(start, start + points * dims)
    start += points * dims
  return out


def select_keypoint_groups(groups: Sequence[str] | None) -> tuple[np.ndarray, dict]:
  """Feature indices of `groups` (kept in MediaPipe order) and the resulting layout description."""
  names = [name for name, _, _ in KEYPOINT_GROUPS]
  groups = list(groups) if groups else names
  unknown = [g for g in groups if g not in names]
  if unknown:
    raise ValueError(f"config.data.keypoint_groups: unknown groups {unknown}; valid: {names}")
  slices = keypoint_slices()
  index, layout, start = [], [], 0
  for name, points, dims in KEYPOINT_GROUPS:  # MediaPipe order, whatever order the config lists
    if name in groups:
      index.append(np.arange(slices[name].start, slices[name].stop))
      layout.append({"name": name, "points": points, "dims": dims,
                     "start": start, "stop": start + points * dims})
      start += points * dims
  return np.concatenate(index), {"format": "mediapipe_holistic", "groups": layout,
                                 "num_features": start, "source_num_features": NUM_KEYPOINT_FEATURES,
                                 "keypoint_groups": [g["name"] for g in layout]}


# ----------------------------------------------------------------------------- workout

WORKOUT_CLASSES = ("push-up", "squat", "pull-up", "dip", "none")
NONE_CLASS = "none"  # frames outside any set

_PAIRED = ("shoulder_flexion", "shoulder_abduction", "shoulder_rotation", "elbow", "wrist",
           "hip_flexion", "hip_abduction", "knee", "ankle", "toe")
JOINT_NAMES = (("neck", "trunk_flexion", "trunk_lateral", "trunk_rotation", "body_inclination")
               + tuple(f"{side}_{joint}" for joint in _PAIRED for side in ("left", "right")))
ANGLE_CENTER = 90.0  # degrees; model input is (angle - center) / scale
ANGLE_SCALE = 45.0

# ----------------------------------------------------------------------------- HHT files

HHT_CLASSES = ("M_full", "M_half", "M_invalid", "F_full", "F_half", "F_invalid")  # the seed's class ids
GENDERS = ("M", "F")
MOVEMENTS = {"fatiguetest": "full", "half": "half", "invalid": "invalid"}  # file-name word -> movement

"""Workout recordings cut into model windows: input scaling, per-frame targets, window labels.

Used by the workout loader and by counting, which runs a model over whole recordings.
"""

from __future__ import annotations

import math

import numpy as np

from research.data.formats.workout import Recording
from research.data.layouts import ANGLE_CENTER, ANGLE_SCALE


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

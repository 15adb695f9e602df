"""Workout recordings: joint angles per frame, the exercise per frame, repetition starts.

On disk a recording is one `.npz` per session:
  angles      (T, 25) float  joint angles in degrees, columns in `JOINT_NAMES` order
  fps         ()      float  frames per second (30 for the seed)
  exercise    (T,)    str or int  the exercise per frame; ints index `class_names`
  class_names (C,)    str    (needed when `exercise` holds ints)
  rep_starts  (R,)    int    frame index where each repetition begins, ascending
  joint_names (25,)   str    optional; checked against the expected layout when present

Joint names and classes are those of `research.data.layouts`.
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib

import numpy as np

from research.data import skipped as skipped_lib
from research.data.errors import DataError, DataNotFoundError
from research.data.formats.npz import read_npz
from research.data.layouts import JOINT_NAMES, WORKOUT_CLASSES


@dataclasses.dataclass
class Recording:
  name: str
  path: str
  angles: np.ndarray  # (T, F) float32 degrees
  fps: float
  exercise: np.ndarray | None  # (T,) int32 index into class_names; None when unlabelled
  rep_starts: np.ndarray | None  # (R,) int32 ascending; None when unlabelled


def _names(value, path, key: str) -> list[str]:
  array = np.asarray(value)
  if array.ndim != 1 or array.dtype.kind not in "USiu":
    raise DataError(f"{path}: {key!r} must be a 1-D array of names; found dtype {array.dtype}, shape "
                    f"{array.shape}. Save it as np.asarray([...names...])", f"bad_{key}")
  return [str(n) for n in array.tolist()]


def read_recording(path, class_names=WORKOUT_CLASSES, num_features: int = len(JOINT_NAMES),
                   require_labels: bool = True) -> Recording:
  """Reads and checks one recording `.npz`; a DataError names the file, the key and what was found.

  With `require_labels=False` a file of only `angles` and `fps` is accepted (for counting
  new sessions); its `exercise` and `rep_starts` are then None.
  """
  path = pathlib.Path(path)
  data = read_npz(path, "write recordings with numpy.savez and plain numeric or string arrays")
  required = ("angles", "fps", "exercise", "rep_starts") if require_labels else ("angles", "fps")
  for key in required:
    if key not in data:
      raise DataError(f"{path}: missing key {key!r}; found {sorted(data)}. A recording needs angles "
                      f"(T, {num_features}), fps, exercise (T,) and rep_starts (R,)", f"missing_{key}")
  angles = np.asarray(data["angles"])
  if angles.ndim != 2 or angles.shape[1] != num_features or angles.dtype.kind not in "fiu":
    raise DataError(f"{path}: 'angles' must be (frames, {num_features}) joint angles in degrees; "
                    f"found shape {angles.shape}, dtype {angles.dtype}. Save the {num_features} joint "
                    "columns in research.data.layouts.JOINT_NAMES order", "wrong_shape")
  angles = angles.astype(np.float32)
  if not np.isfinite(angles).all():
    raise DataError(f"{path}: 'angles' holds {int((~np.isfinite(angles)).sum())} NaN/Inf values; "
                    "interpolate missing frames before saving", "non_finite")
  if "joint_names" in data and tuple(_names(data["joint_names"], path, "joint_names")) != JOINT_NAMES[:num_features]:
    raise DataError(f"{path}: 'joint_names' {_names(data['joint_names'], path, 'joint_names')} differ from "
                    f"the expected layout {list(JOINT_NAMES)}; reorder the columns of 'angles'",
                    "wrong_joint_names")
  num_frames = len(angles)
  fps = np.asarray(data["fps"])
  if fps.size != 1 or fps.dtype.kind not in "fiu" or not np.isfinite(fps).all() or not float(fps.reshape(())) > 0:
    raise DataError(f"{path}: 'fps' must be one positive number (frames per second); found {fps.tolist()!r} "
                    f"(dtype {fps.dtype}). Save fps=np.float32(30) or the camera's rate", "bad_fps")
  fps = float(fps.reshape(()))
  if "exercise" not in data or "rep_starts" not in data:
    return Recording(name=path.stem, path=str(path), angles=angles, fps=fps, exercise=None, rep_starts=None)
  exercise = np.asarray(data["exercise"])
  if exercise.shape != (num_frames,):
    raise DataError(f"{path}: 'exercise' must give one label per frame, shape ({num_frames},); "
                    f"found {exercise.shape}. Save one exercise name per row of 'angles'", "bad_exercise")
  names = list(class_names)
  if exercise.dtype.kind in "US":
    file_names = [str(n) for n in np.unique(exercise)]
  elif exercise.dtype.kind in "iu":
    if "class_names" not in data:
      raise DataError(f"{path}: 'exercise' holds integers but the file has no 'class_names' to say "
                      "what they mean; add class_names (C,) or store exercise as strings", "bad_exercise")
    own = _names(data["class_names"], path, "class_names")
    if exercise.size and (exercise.min() < 0 or exercise.max() >= len(own)):
      raise DataError(f"{path}: 'exercise' indices must lie in [0, {len(own)}) to index 'class_names'; "
                      f"found [{exercise.min()}, {exercise.max()}]. Fix the labels or class_names",
                      "bad_exercise")
    exercise = np.asarray(own)[exercise]
    file_names = sorted(set(own[i] for i in np.unique(data["exercise"])))
  else:
    raise DataError(f"{path}: 'exercise' must hold strings or ints; found dtype {exercise.dtype}. "
                    "Save exercise names as strings", "bad_exercise")
  unknown = sorted(set(file_names) - set(names))
  if unknown:
    raise DataError(f"{path}: exercises {unknown} are not among the configured classes {names}; "
                    "set config.data.class_names or relabel the file", "unknown_label")
  lookup = {name: i for i, name in enumerate(names)}
  exercise_T = np.asarray([lookup[str(e)] for e in exercise], np.int32)
  rep_starts = np.asarray(data["rep_starts"]).reshape(-1)
  if rep_starts.dtype.kind not in "iu":
    raise DataError(f"{path}: 'rep_starts' must be integer frame indices; found dtype {rep_starts.dtype}. "
                    "Save them with np.asarray(starts, np.int32)", "bad_rep_starts")
  if rep_starts.size and (rep_starts.min() < 0 or rep_starts.max() >= num_frames):
    raise DataError(f"{path}: 'rep_starts' must lie in [0, {num_frames}) (frames of 'angles'); found "
                    f"[{rep_starts.min()}, {rep_starts.max()}]. Fix or drop the out-of-range starts",
                    "rep_starts_out_of_range")
  rep_starts = rep_starts.astype(np.int32)
  if np.any(np.diff(rep_starts) <= 0):
    raise DataError(f"{path}: 'rep_starts' must be strictly ascending frame indices; found "
                    f"{rep_starts[:10].tolist()}{'...' if len(rep_starts) > 10 else ''}. Sort them and "
                    "remove duplicates", "rep_starts_unsorted")
  return Recording(name=path.stem, path=str(path), angles=angles, fps=fps, exercise=exercise_T,
                   rep_starts=rep_starts)


def read_folder(folder, class_names, fps: float, window: int) -> tuple[dict[str, Recording], list[dict]]:
  """The usable recordings of `folder` by name, and the skipped ones (`research.data.skipped` items).

  A file that fails `read_recording` or is shorter than one window is skipped and counted; one
  recorded at another frame rate is an error (resample it or change config.data.fps).
  """
  folder = pathlib.Path(folder)
  if not folder.is_dir():
    raise DataNotFoundError(f"config.data.path={str(folder)!r} is not a folder; give a folder of "
                            "recording .npz files or leave it empty for the embedded synthetic sessions")
  files = sorted(folder.glob("*.npz"))
  if not files:
    raise DataError(f"config.data.path={str(folder)!r} holds no .npz recordings; expected one .npz per "
                    "session (see research/data/formats/workout.py), or leave data.path empty", "empty")
  recordings, skipped = {}, []
  for path in files:
    try:
      rec = read_recording(path, class_names)
    except DataError as error:
      logging.warning("Skipping recording: %s", error)
      skipped.append(skipped_lib.item(path.name, error.reason, str(error)))
      continue
    if abs(rec.fps - fps) > 1e-6:
      raise DataError(f"{path}: recorded at {rec.fps:g} fps but config.data.fps is {fps:g}; windows are "
                      "counted in frames, so resample the recording or change config.data.fps",
                      "fps_mismatch")
    if len(rec.angles) < window:
      skipped.append(skipped_lib.item(path.name, "too_short", f"{len(rec.angles)} frames, shorter than one "
                                      f"window of {window} (config.data.window)"))
      continue
    recordings[rec.name] = rec
  if len(recordings) < 3 and skipped:
    listed = "; ".join(f"{s['item']}: {s['reason']}" for s in skipped[:10])
    raise DataError(f"{folder}: only {len(recordings)} usable recordings (3 needed); skipped "
                    f"{len(skipped)}: {listed}. Fix those files or add recordings", "too_few_recordings")
  return recordings, skipped


def write_recording(path, angles, fps: float, exercise, rep_starts, class_names=WORKOUT_CLASSES,
                    joint_names=JOINT_NAMES) -> pathlib.Path:
  """Writes one recording `.npz` (exercise as names, with the class and joint names beside it)."""
  path = pathlib.Path(path)
  np.savez(path, angles=angles, fps=np.float32(fps), exercise=exercise, class_names=np.asarray(class_names),
           rep_starts=rep_starts, joint_names=np.asarray(joint_names))
  return path

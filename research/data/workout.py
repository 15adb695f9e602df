"""Workout recordings: joint angles per frame, the exercise per frame, repetition starts.

On disk a recording is one `.npz` per session:
  angles      (T, 25) float  joint angles in degrees, columns in `JOINT_NAMES` order
  fps         ()      float  frames per second (30 for the seed)
  exercise    (T,)    str or int  the exercise per frame; ints index `class_names`
  class_names (C,)    str    (needed when `exercise` holds ints)
  rep_starts  (R,)    int    frame index where each repetition begins, ascending
  joint_names (25,)   str    optional; checked against the expected layout when present

`load` windows the recordings of a folder (split by recording, never by window); with no
folder it reads the synthetic sessions of `research.data.synthetic.workout`, made once into
the data cache.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import pathlib

import numpy as np

from research.data import cache
from research.data import dataset as dataset_lib
from research.data import skipped as skipped_lib
from research.data.errors import DataError, DataNotFoundError, read_npz

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


def _names(value, path, key: str) -> list[str]:
  array = np.asarray(value)
  if array.ndim != 1 or array.dtype.kind not in "USiu":
    raise DataError(f"{path}: {key!r} must be a 1-D array of names; found dtype {array.dtype}, shape "
                    f"{array.shape}. Save it as np.asarray([...names...])", f"bad_{key}")
  return [str(n) for n in array.tolist()]


def read_recording(path, class_names=CLASS_NAMES, num_features: int = len(JOINT_NAMES),
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
                    "columns in research.data.workout.JOINT_NAMES order", "wrong_shape")
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
    raise DataError(f"Workout data needs at least 3 recordings (train, val, test); found {len(names)}. "
                    "Record or generate more sessions (launch/make_data.py workout --sessions N)",
                    "too_few_recordings")
  order = np.random.default_rng(seed).permutation(sorted(names))
  n = len(order)
  n_test = min(max(1, round(test_fraction * n)), n - 2)
  n_val = min(max(1, round(val_fraction * n)), n - 1 - n_test)
  return {"test": sorted(order[:n_test].tolist()), "val": sorted(order[n_test:n_test + n_val].tolist()),
          "train": sorted(order[n_test + n_val:].tolist())}


# ----------------------------------------------------------------------------- loader


def _as_dict(value) -> dict:
  return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def synthetic_folder(cfg) -> pathlib.Path:
  """The embedded synthetic sessions of `cfg.generator`, generated once into `cfg.cache_dir`."""
  from research.data.synthetic import workout as synthetic  # It reads this module's layout.
  options = _as_dict(cfg.generator)
  settings = {"generator": "workout", "version": synthetic.VERSION, "options": options}
  return cache.cached_folder(cfg.get("cache_dir", ""), "workout_synthetic", settings,
                             lambda folder: synthetic.generate(str(folder), **options))


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
                    "session (see research/data/workout.py), or leave data.path empty", "empty")
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


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """Windows of every recording in `cfg.path` (or the embedded synthetic sessions), split by recording
  with `cfg.split_seed`.

  Train and validation windows use `cfg.stride`; test windows use `cfg.eval_stride` and carry
  `recording` and `start`, so a report can stitch per-frame probabilities over whole sessions.
  """
  class_names = tuple(cfg.class_names)
  if NONE_CLASS not in class_names:
    raise ValueError(f"config.data.class_names must include {NONE_CLASS!r} (frames outside sets); "
                     f"found {list(class_names)}")
  folder = pathlib.Path(cfg.path) if cfg.path else synthetic_folder(cfg)
  recordings, skipped = read_folder(folder, class_names, cfg.fps, cfg.window)
  assignment = split_recordings(list(recordings), cfg.val_fraction, cfg.test_fraction,
                                dataset_lib.split_seed(cfg, seed))
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
      "skipped": skipped,
  }
  return dataset_lib.Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)


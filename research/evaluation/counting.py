"""Repetition counting over whole recordings from per-window model outputs.

The model sees windows; a recording is covered by overlapping windows. `stitch` averages
the per-frame values of every window covering a frame; `pick_peaks` finds repetition
starts in the stitched probability (local maxima above a height, at least `min_spacing`
frames apart); `count_in_sets` counts them per exercise set. Metrics follow the counting
literature (RepNet, Countix): MAE relative to the true count, mean |pred - true| / true,
and off-by-one accuracy (OBO), the share of sets counted within +-1.
"""

from __future__ import annotations

import numpy as np

from research.evaluation import stats

# The counting settings, all in frames except `height` (a probability). Their values live in
# one place: config.eval.counting of configs/tcn.py.
SETTINGS = {"min_spacing": "frames between two repetition starts at least",
            "height": "stitched probability a peak must reach",
            "min_segment": "frames; shorter predicted exercise runs are merged away",
            "tolerance": "frames a start may lie outside its set",
            "max_gap": "frames; a shorter 'none' pause inside one exercise is bridged"}


def settings(counting_config, where: str = "config.eval.counting") -> dict:
  """The counting settings of `counting_config` (a ConfigDict or dict) as a checked plain dict."""
  if counting_config is None:
    raise ValueError(f"{where} is missing; counting needs {sorted(SETTINGS)} (see configs/tcn.py)")
  given = counting_config.to_dict() if hasattr(counting_config, "to_dict") else dict(counting_config)
  missing = sorted(set(SETTINGS) - set(given))
  unknown = sorted(set(given) - set(SETTINGS))
  if missing or unknown:
    raise ValueError(f"{where}: missing {missing}, unknown {unknown}; give exactly {sorted(SETTINGS)}")
  out = {}
  for key, value in given.items():
    number = float(value) if key == "height" else value
    if key != "height" and (isinstance(value, bool) or not float(value).is_integer()):
      raise ValueError(f"{where}.{key} must be a whole number of frames; found {value!r}")
    out[key] = number if key == "height" else int(value)
  if not 0.0 < out["height"] <= 1.0:
    raise ValueError(f"{where}.height must lie in (0, 1]; found {out['height']}")
  negative = [k for k in SETTINGS if k != "height" and out[k] < 0]
  if negative:
    raise ValueError(f"{where}: {negative} must be >= 0 frames; found {[out[k] for k in negative]}")
  return out


def stitch(values_NW, starts_N, num_frames: int) -> np.ndarray:
  """Mean over the covering windows, per frame: (N, W, ...) -> (num_frames, ...).

  Frames no window covers are NaN.
  """
  values_NW = np.asarray(values_NW, np.float64)
  starts_N = np.asarray(starts_N, np.int64)
  window = values_NW.shape[1]
  if len(starts_N) and (starts_N.min() < 0 or starts_N.max() + window > num_frames):
    raise ValueError(f"stitch: windows of {window} frames starting at {starts_N.min()}..{starts_N.max()} "
                     f"do not fit a recording of {num_frames} frames")
  frames_NW = starts_N[:, None] + np.arange(window)[None, :]
  total = np.zeros((num_frames,) + values_NW.shape[2:])
  count = np.zeros(num_frames)
  np.add.at(total, frames_NW.reshape(-1), values_NW.reshape((-1,) + values_NW.shape[2:]))
  np.add.at(count, frames_NW.reshape(-1), 1.0)
  with np.errstate(invalid="ignore", divide="ignore"):
    return total / count.reshape((-1,) + (1,) * (values_NW.ndim - 2))


def pick_peaks(prob_T, min_spacing: int, height: float) -> np.ndarray:
  """Frames of repetition starts: local maxima >= `height`, at least `min_spacing` frames apart
  (the higher peak wins, scipy.signal.find_peaks' `distance`). Edge frames can be peaks."""
  prob_T = np.nan_to_num(np.asarray(prob_T, np.float64), nan=0.0)
  padded = np.concatenate([[-np.inf], prob_T, [-np.inf]])
  from scipy import signal  # 0.08 s to import; only workout runs count peaks
  peaks, _ = signal.find_peaks(padded, height=height, distance=max(int(min_spacing), 1))
  return (peaks - 1).astype(np.int64)


def smooth_labels(labels_T, min_segment: int) -> np.ndarray:
  """Per-frame labels with runs shorter than `min_segment` frames merged into their longer neighbour,
  shortest run first, until every run is long enough (or one run is left)."""
  labels = np.asarray(labels_T).copy()
  while True:
    change = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], change, [len(labels)]])
    lengths = np.diff(bounds)
    if len(lengths) <= 1 or lengths.min() >= min_segment:
      return labels
    i = int(np.argmin(lengths))
    left = lengths[i - 1] if i > 0 else -1
    right = lengths[i + 1] if i + 1 < len(lengths) else -1
    donor = bounds[i - 1] if left >= right else bounds[i + 1]
    labels[bounds[i]:bounds[i + 1]] = labels[donor]


def bridge_gaps(labels_T, none_index: int, max_gap: int) -> np.ndarray:
  """Fills `none` runs shorter than `max_gap` frames that have the same exercise on both sides
  (a pause inside a set, e.g. standing still between squats, is not a new set)."""
  labels = np.asarray(labels_T).copy()
  change = np.flatnonzero(np.diff(labels)) + 1
  bounds = np.concatenate([[0], change, [len(labels)]])
  for i in range(1, len(bounds) - 2):
    start, end = bounds[i], bounds[i + 1]
    if (labels[start] == none_index and end - start < max_gap
        and labels[bounds[i - 1]] == labels[end] != none_index):
      labels[start:end] = labels[end]
  return labels


def segments(labels_T, none_index: int) -> list[dict]:
  """Runs of one non-`none` label: [{'start', 'end' (exclusive), 'label'}]."""
  labels_T = np.asarray(labels_T)
  change = np.flatnonzero(np.diff(labels_T)) + 1
  bounds = np.concatenate([[0], change, [len(labels_T)]])
  return [{"start": int(s), "end": int(e), "label": int(labels_T[s])}
          for s, e in zip(bounds[:-1], bounds[1:]) if labels_T[s] != none_index]


def count_in_sets(peaks, sets, tolerance: int = 0) -> list[list[int]]:
  """The peaks inside each set's [start - tolerance, end + tolerance), per set."""
  peaks = np.asarray(peaks, np.int64)
  return [[int(p) for p in peaks if s["start"] - tolerance <= p < s["end"] + tolerance] for s in sets]


def counting_metrics(true_counts, pred_counts) -> dict:
  """MAE relative to the true count, absolute MAE, off-by-one and exact accuracy, with 95% intervals.

  Sets with a true count of 0 are left out of the relative MAE (it is undefined there).
  """
  true = np.asarray(true_counts, np.float64)
  pred = np.asarray(pred_counts, np.float64)
  if true.shape != pred.shape or true.ndim != 1:
    raise ValueError(f"counting_metrics: true and predicted counts must be equally long vectors; "
                     f"found {true.shape} and {pred.shape}")
  if len(true) == 0:
    raise ValueError("counting_metrics: no sets to score")
  error = np.abs(pred - true)
  relative = error[true > 0] / true[true > 0]
  obo = int((error <= 1).sum())
  exact = int((error == 0).sum())
  return {
      "num_sets": int(len(true)),
      "mae_relative": float(relative.mean()) if len(relative) else float("nan"),
      "mae_relative_interval_95": stats.bootstrap_interval(relative),
      "mae": float(error.mean()),
      "mae_interval_95": stats.bootstrap_interval(error),
      "off_by_one": obo / len(true),
      "off_by_one_interval_95": list(stats.wilson_interval(obo, len(true))),
      "exact": exact / len(true),
      "mean_signed_error": float((pred - true).mean()),
  }


def analyse_recording(seg_prob_T, class_probs_TC, *, none_index: int, min_spacing: int, height: float,
                      min_segment: int, tolerance: int, max_gap: int = 0, delay: int = 0) -> dict:
  """Exercise segments and their repetitions from stitched per-frame outputs.

  Frame labels are the argmax of the stitched class probabilities, with runs shorter than
  `min_segment` frames merged away and `none` gaps shorter than `max_gap` frames inside one
  exercise bridged; a repetition belongs to the segment it starts in
  (+- `tolerance` frames). A model trained to mark starts `delay` frames late has its
  probability moved back by `delay` first. Returns {'peaks', 'seg_prob' (T,, aligned to the
  starts), 'labels' (T,), 'segments': [{start, end, label, count, rep_starts}]}.
  """
  seg_prob_T = np.asarray(seg_prob_T, np.float64)
  if delay:
    seg_prob_T = np.concatenate([seg_prob_T[delay:], np.full(min(delay, len(seg_prob_T)), np.nan)])
  peaks = pick_peaks(seg_prob_T, min_spacing, height)
  class_probs_TC = np.nan_to_num(np.asarray(class_probs_TC, np.float64), nan=0.0)
  labels_T = smooth_labels(class_probs_TC.argmax(-1), min_segment)
  if max_gap:
    labels_T = bridge_gaps(labels_T, none_index, max_gap)
  found = segments(labels_T, none_index)
  for segment, reps in zip(found, count_in_sets(peaks, found, tolerance)):
    segment["rep_starts"] = reps
    segment["count"] = len(reps)
  return {"peaks": peaks, "seg_prob": seg_prob_T, "labels": labels_T, "segments": found}


def analyse_windows(seg_prob_NW, class_probs_NC, starts_N, num_frames: int, *, none_index: int,
                    params: dict, delay: int = 0) -> dict:
  """`analyse_recording` of per-window outputs: each window's class probabilities cover all its frames.

  `params` holds min_spacing, height, min_segment, tolerance and max_gap.
  """
  seg_prob_T = stitch(seg_prob_NW, starts_N, num_frames)
  window = np.shape(seg_prob_NW)[1]
  class_NWC = np.broadcast_to(np.asarray(class_probs_NC)[:, None, :], (len(starts_N), window, np.shape(class_probs_NC)[1]))
  return analyse_recording(
      seg_prob_T, stitch(class_NWC, starts_N, num_frames), none_index=none_index,
      min_spacing=params["min_spacing"], height=params["height"], min_segment=params["min_segment"],
      tolerance=params["tolerance"], max_gap=params["max_gap"], delay=delay)

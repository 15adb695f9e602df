"""Counting repetitions in one whole recording with a trained workout tracker.

    run = research.train.load_run(workdir)   # run.predict: split dict -> outputs dict
    result, traces = count_recording(run.predict, run.meta, recording, stride=5,
                                     counting_config=run.config.eval.counting)

The recording is cut into the run's windows, `predict_fn` gives per-window class
probabilities and per-frame start probabilities, and `counting.analyse_windows` stitches
them into exercise segments with their repetitions. No training code is imported here:
any function with that contract (a loaded run, an exported model) can count.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from research.data import windows
from research.data.formats import workout
from research.data.errors import DataError
from research.evaluation import counting


def count_recording(predict_fn: Callable[[dict], dict], meta: dict, recording: workout.Recording, *,
                    stride: int, counting_config) -> tuple[dict, dict]:
  """(result, traces) for one recording.

  predict_fn: {'x': (N, W, F)} -> {'probs': (N, C), 'seg_prob': (N, W)} (numpy or jax arrays).
  meta: the run's dataset meta (window, sampling_rate, class_names, none_class, target_delay).
  counting_config: config.eval.counting (min_spacing, height, min_segment, tolerance, max_gap).
  result: JSON-able segments with counts (and, for a labelled recording, the true sets beside
  them); traces: `counting.analyse_recording`'s dict (per-frame probability, peaks, labels).
  """
  params = counting.settings(counting_config)
  window = int(meta["window"])
  if stride < 1:
    raise ValueError(f"stride must be >= 1 frames; found {stride}")
  if recording.fps != float(meta["sampling_rate"]):
    raise DataError(f"{recording.path}: recorded at {recording.fps:g} fps; the run was trained at "
                    f"{meta['sampling_rate']:g} fps. Resample the recording first.", "fps_mismatch")
  if len(recording.angles) < window:
    raise DataError(f"{recording.path}: {len(recording.angles)} frames, fewer than one window of {window}; "
                    "record a longer session", "too_short")
  x_NWF, starts = windows.input_windows(recording.angles, window, stride)
  predictions = {k: np.asarray(v) for k, v in predict_fn({"x": x_NWF}).items()}
  num_frames = len(recording.angles)
  class_names = list(meta["class_names"])
  none_index = class_names.index(meta.get("none_class", "none"))
  found = counting.analyse_windows(predictions["seg_prob"], predictions["probs"], starts, num_frames,
                                   none_index=none_index, params=params,
                                   delay=int(meta.get("target_delay", 0)))
  fps = recording.fps
  result = {
      "input": recording.path, "fps": fps, "num_frames": num_frames, "window": window, "stride": stride,
      "counting": params,
      "total_repetitions": int(sum(s["count"] for s in found["segments"])),
      "segments": [{"exercise": class_names[s["label"]], "start_frame": s["start"], "end_frame": s["end"],
                    "start_s": round(s["start"] / fps, 3), "end_s": round(s["end"] / fps, 3),
                    "count": s["count"], "rep_start_frames": s["rep_starts"]} for s in found["segments"]],
  }
  if recording.exercise is not None:
    true_sets = windows.sets_of(recording.exercise, recording.rep_starts, none_index)
    counted = counting.count_in_sets(found["peaks"], true_sets, params["tolerance"])
    result["truth"] = [{"exercise": class_names[s["label"]], "start_frame": s["start"], "end_frame": s["end"],
                        "true_count": s["count"], "counted": len(c)} for s, c in zip(true_sets, counted)]
    if true_sets:
      result["truth_metrics"] = counting.counting_metrics([s["count"] for s in true_sets],
                                                          [len(c) for c in counted])
  return result, found

"""Counts repetitions in one recording with a trained workout-tracker run.

  python launch/count_reps.py --workdir DIR --input recording.npz [--output out.json]
      [--stride 5] [--height 0.5] [--min_spacing 15] [--min_segment 30] [--max_gap 90]
      [--plot_dir DIR]

The recording needs `angles` (T, 25) and `fps`; when it also holds `exercise` and
`rep_starts`, the true sets and their counts are printed beside the predicted ones.
Writes the exercise segments with their counts and repetition frames as JSON (stdout and
--output) and a plot of angles, probabilities and repetitions to <plot_dir>/reps_<name>.png
(default <workdir>/plots).
"""

from __future__ import annotations

import json
import pathlib
import sys

from absl import app, flags, logging

_WORKDIR = flags.DEFINE_string("workdir", None, "Trained run folder (launch/train.py --config configs/tcn.py).")
_INPUT = flags.DEFINE_string("input", None, "Recording .npz with angles (T, 25) and fps.")
_OUTPUT = flags.DEFINE_string("output", None, "Optional JSON output file.")
_STRIDE = flags.DEFINE_integer("stride", None, "Frames between window starts; default: the run's test stride.")
_HEIGHT = flags.DEFINE_float("height", None, "Peak height; default: the run's config.data.counting.height.")
_SPACING = flags.DEFINE_integer("min_spacing", None, "Frames between repetitions at least; default: the run's.")
_SEGMENT = flags.DEFINE_integer("min_segment", None, "Shortest exercise segment in frames; default: the run's.")
_GAP = flags.DEFINE_integer("max_gap", None,
                            "Longest 'none' pause bridged inside one set, in frames; default: the run's.")
_PLOT_DIR = flags.DEFINE_string("plot_dir", None, "Where reps_<name>.png goes; default <workdir>/plots.")


def count_recording(run, recording, *, stride: int, params: dict) -> tuple[dict, dict]:
  """Segments, counts and per-frame traces (`analyse_recording`'s dict) of one recording under a run."""
  from research.data import workout
  from research.evaluation import counting
  from research.train import predict_arrays

  meta = run.meta
  window = int(meta["window"])
  if recording.fps != float(meta["sampling_rate"]):
    raise ValueError(f"{recording.path}: recorded at {recording.fps:g} fps; the run was trained at "
                     f"{meta['sampling_rate']:g} fps. Resample the recording first.")
  if len(recording.angles) < window:
    raise ValueError(f"{recording.path}: {len(recording.angles)} frames, fewer than one window of {window}")
  x_NWF, starts = workout.input_windows(recording.angles, window, stride)
  predictions = predict_arrays(run, {"x": x_NWF})
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
    true_sets = workout.sets_of(recording.exercise, recording.rep_starts, none_index)
    counted = counting.count_in_sets(found["peaks"], true_sets, params["tolerance"])
    result["truth"] = [{"exercise": class_names[s["label"]], "start_frame": s["start"], "end_frame": s["end"],
                        "true_count": s["count"], "counted": len(c)} for s, c in zip(true_sets, counted)]
    if true_sets:
      result["truth_metrics"] = counting.counting_metrics([s["count"] for s in true_sets],
                                                          [len(c) for c in counted])
  return result, found


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from research.data import workout
  from research.evaluation import counting_plots
  from research.evaluation import multitask as multitask_report
  from research.train import TrainingError, load_run
  from research import workdir as workdir_lib

  try:
    run = load_run(_WORKDIR.value)
    meta = run.meta
    params = {**multitask_report.COUNTING_DEFAULTS, **meta.get("counting", {})}
    for key, flag in (("height", _HEIGHT), ("min_spacing", _SPACING), ("min_segment", _SEGMENT),
                      ("max_gap", _GAP)):
      if flag.value is not None:
        params[key] = flag.value
    recording = workout.read_recording(_INPUT.value, meta["class_names"], len(meta["feature_layout"]),
                                       require_labels=False)
    stride = _STRIDE.value or int(meta.get("stride", {}).get("test", 5))
    result, traces = count_recording(run, recording, stride=stride, params=params)
  except (TrainingError, ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  plot_dir = pathlib.Path(_PLOT_DIR.value) if _PLOT_DIR.value else pathlib.Path(_WORKDIR.value) / "plots"
  plot = counting_plots.reps_plot(
      plot_dir / f"reps_{recording.name}.png", angles_TF=recording.angles, joint_names=meta["feature_layout"],
      seg_prob_T=traces["seg_prob"], peaks=traces["peaks"], segments=traces["segments"],
      class_names=meta["class_names"], fps=recording.fps, true_starts=recording.rep_starts, height=params["height"])
  result["plot"] = str(plot)
  if _OUTPUT.value:
    workdir_lib.write_json_atomic(_OUTPUT.value, result)
  print(json.dumps(workdir_lib.jsonable(result), indent=2))
  return 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "input"])
  app.run(lambda argv: sys.exit(main(argv)))

"""Counts repetitions in one recording with a trained workout-tracker run.

  python launch/count_reps.py --workdir DIR --input recording.npz [--output out.json]
      [--stride 5] [--height 0.5] [--min_spacing 15] [--min_segment 30] [--max_gap 90]
      [--plot_dir DIR]

The recording needs `angles` (T, 25) and `fps`; when it also holds `exercise` and
`rep_starts`, the true sets and their counts are printed beside the predicted ones.
Counting settings default to the run's config.eval.counting; a flag overrides one.
Writes the exercise segments with their counts and repetition frames as JSON (stdout and
--output) and a plot of angles, probabilities and repetitions to <plot_dir>/reps_<name>.png
(default <workdir>/plots).
"""

from __future__ import annotations

import json

from absl import flags

from research import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Trained run folder (launch/train.py --config configs/tcn.py).")
_INPUT = flags.DEFINE_string("input", None, "Recording .npz with angles (T, 25) and fps.")
_OUTPUT = flags.DEFINE_string("output", None, "Optional JSON output file.")
_STRIDE = flags.DEFINE_integer("stride", None, "Frames between window starts; default: the run's test stride.")
_OVERRIDES = {
    "height": flags.DEFINE_float("height", None, "Peak height; default: the run's config.eval.counting."),
    "min_spacing": flags.DEFINE_integer("min_spacing", None, "Frames between repetitions at least."),
    "min_segment": flags.DEFINE_integer("min_segment", None, "Shortest exercise segment in frames."),
    "max_gap": flags.DEFINE_integer("max_gap", None, "Longest 'none' pause bridged inside one set, in frames."),
}
_PLOT_DIR = flags.DEFINE_string("plot_dir", None, "Where reps_<name>.png goes; default <workdir>/plots.")


def main(argv):
  del argv
  from research import workdir as workdir_lib
  from research.train import reporting

  result = reporting.count_repetitions(
      _WORKDIR.value, _INPUT.value, stride=_STRIDE.value, plot_dir=_PLOT_DIR.value,
      counting={key: flag.value for key, flag in _OVERRIDES.items() if flag.value is not None})
  if _OUTPUT.value:
    workdir_lib.write_json_atomic(_OUTPUT.value, result)
  print(json.dumps(workdir_lib.jsonable(result), indent=2))
  return 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "input"])
  cli.run(main)

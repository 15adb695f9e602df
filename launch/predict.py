"""Predicts the class of inputs with any trained classification run (network, head, or both).

  python launch/predict.py --workdir DIR --input PATH [--output preds.json] [--batch_size 64] [--cpu]

PATH, as the run's data were: one sequence folder (<frame>.npy files), one .npy/.npz
array ((T, F) or (N, T, F)), or a folder of them; for HHT runs, .npz files holding
`hht` or `signal` + `fs`, or a folder of them. Prints one line per input (the full
class probabilities for a single input) and writes, per input: label, class id,
confidence and every class probability, as JSON to --output.
"""

from __future__ import annotations

import pathlib

from absl import flags

from research import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Trained run folder.")
_INPUT = flags.DEFINE_string("input", None, "Input file or folder (see above).")
_OUTPUT = flags.DEFINE_string("output", None, "JSON file for the predictions.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Inputs per forward pass.")
_CPU = flags.DEFINE_bool("cpu", False, "Run on the CPU even where an accelerator is present.")


def main(argv):
  del argv
  if _CPU.value:
    import os
    os.environ["JAX_PLATFORMS"] = "cpu"  # Before JAX is first imported.
  from research import workdir as workdir_lib
  from research.train import reporting

  rows = reporting.predict_inputs(_WORKDIR.value, _INPUT.value, _BATCH.value)
  if _OUTPUT.value:
    workdir_lib.write_json_atomic(_OUTPUT.value, {"workdir": str(pathlib.Path(_WORKDIR.value)),
                                                   "predictions": rows})
  print(reporting.prediction_text(rows))
  if _OUTPUT.value:
    print(f"Predictions saved to: {_OUTPUT.value}")
  return 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "input"])
  cli.run(main)

"""Predicts the class of inputs with any trained classification run (network, head, or both).

  python launch/predict.py --workdir DIR --input PATH [--output preds.json] [--batch_size 64] [--cpu]

PATH, as the run's data were: one sequence folder (<frame>.npy files), one .npy/.npz
array ((T, F) or (N, T, F)), or a folder of them; for HHT runs, .npz files holding
`hht` or `signal` + `fs`, or a folder of them. Prints one line per input (the full
class probabilities for a single input) and writes, per input: label, class id,
confidence and every class probability, as JSON to --output.
"""

from __future__ import annotations

import sys

from absl import flags, logging

from research import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Trained run folder.")
_INPUT = flags.DEFINE_string("input", None, "Input file or folder (see above).")
_OUTPUT = flags.DEFINE_string("output", None, "JSON file for the predictions.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Inputs per forward pass.")
_CPU = flags.DEFINE_bool("cpu", False, "Run on the CPU even where an accelerator is present.")


def _single(row: dict) -> str:
  lines = [f"Prediction: {row['label']}", f"Confidence: {row['confidence']:.4f}", "", "Class probabilities:"]
  return "\n".join(lines + [f"  {name}: {p:.4f}" for name, p in row["probs"].items()])


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  if _CPU.value:
    import os
    os.environ["JAX_PLATFORMS"] = "cpu"  # Before JAX is first imported.
  from research import workdir as workdir_lib
  from research.data import inputs
  from research.errors import ResearchError
  from research.train import load_run
  from research.train.loop import prediction_row

  try:
    run = load_run(_WORKDIR.value)
    if not run.meta.get("class_names"):
      raise ValueError(f"{_WORKDIR.value} is a {run.config.task.name!r} run without class names; "
                       f"predict.py serves classifiers")
    names, batch = inputs.read_for_prediction(_INPUT.value, run.config.data, run.meta)
    outputs = run.predict(batch, _BATCH.value)
    if "probs" not in outputs:
      raise ValueError(f"the {run.config.task.name!r} task predicts {sorted(outputs)}, not class 'probs'")
    rows = [prediction_row(name, p, run.meta["class_names"]) for name, p in zip(names, outputs["probs"])]
    if "mask" in batch:
      for row, valid in zip(rows, batch["mask"]):
        row["frames"] = int(valid.sum())
    if _OUTPUT.value:
      workdir_lib.write_json_atomic(_OUTPUT.value, {"workdir": str(run.workdir), "predictions": rows})
  except (ResearchError, ValueError, OSError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  if len(rows) == 1:
    print(_single(rows[0]))
  else:
    for row in rows:
      print(f"{row['input']}: {row['label']} ({row['confidence']:.4f})")
  if _OUTPUT.value:
    print(f"Predictions saved to: {_OUTPUT.value}")
  return 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "input"])
  cli.run(main)

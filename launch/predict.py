"""Predicts the class of sequences with a trained classification run.

  python launch/predict.py --workdir DIR --input PATH [--output preds.json] [--batch_size 64]

PATH: one sequence folder (<frame>.npy files), one .npy/.npz array ((T, F) or
(N, T, F)), or a folder of them. Writes, per input: label, confidence and every
class probability (JSON to --output, else to stdout).

A CNN-SVM workdir (launch/cnn_svm.py; or one of its cnn_svm/{final,latest} folders)
takes .npz HHT files or a folder of them and prints the seed's per-file summary.
"""

from __future__ import annotations

import json
import sys

from absl import app, flags

_WORKDIR = flags.DEFINE_string("workdir", None, "Trained run folder.")
_INPUT = flags.DEFINE_string("input", None, "Sequence folder, .npy/.npz file, or a folder of them.")
_OUTPUT = flags.DEFINE_string("output", None, "JSON file for the predictions; default stdout.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Sequences per forward pass.")
_CPU = flags.DEFINE_bool("cpu", False, "Run on the CPU even where an accelerator is present.")


# --- HHT CNN-SVM workdirs (issue 6): own checkpoint layout, .npz files in, the seed's printout. ---
def _predict_cnn_svm() -> int:
  from absl import logging

  from research.studies import cnn_svm
  logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  from research.train import TrainingError

  try:
    rows = cnn_svm.predict_files(_WORKDIR.value, _INPUT.value, _BATCH.value)
  except (TrainingError, ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  if len(rows) == 1:
    print(cnn_svm.format_single(rows[0]))
  else:
    for row in rows:
      print(f"{row['file']}: {row['prediction']} ({row['confidence']:.4f})")
  if _OUTPUT.value:
    with open(_OUTPUT.value, "w") as f:
      f.write(json.dumps({"workdir": _WORKDIR.value, "predictions": rows}, indent=2) + "\n")
    print(f"Predictions saved to: {_OUTPUT.value}")
  return 0
# --- end of the CNN-SVM branch ---


def main(argv):
  del argv
  if _CPU.value:
    import os
    os.environ["JAX_PLATFORMS"] = "cpu"  # Before JAX is first imported.
  from research.studies import cnn_svm
  if cnn_svm.is_checkpoint(_WORKDIR.value):
    return _predict_cnn_svm()
  import numpy as np

  from research.data import inputs
  from research.train import TrainingError, load_run, predict_arrays

  try:
    run = load_run(_WORKDIR.value)
    if not run.meta.get("class_names"):
      raise ValueError(f"{_WORKDIR.value} is a {run.config.task.name!r} run without class names; "
                       f"predict.py serves classifiers")
    named = inputs.read_inputs(_INPUT.value)
    batch = inputs.prepare(named, run.meta)
  except (TrainingError, ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  outputs = predict_arrays(run, batch, _BATCH.value)
  if "probs" not in outputs:
    print(f"error: the {run.config.task.name!r} task predicts {sorted(outputs)}, not class 'probs'",
          file=sys.stderr)
    return 1
  probs = np.asarray(outputs["probs"], np.float64)
  names = run.meta["class_names"]
  results = []
  for (name, x_TF), p, valid in zip(named, probs, batch["mask"]):
    best = int(p.argmax())
    results.append({"input": name, "frames": int(valid.sum()), "label": names[best],
                    "confidence": float(p[best]),
                    "probs": {c: float(v) for c, v in zip(names, p)}})
  text = json.dumps({"workdir": str(run.workdir), "predictions": results}, indent=2)
  if _OUTPUT.value:
    with open(_OUTPUT.value, "w") as f:
      f.write(text + "\n")
    for r in results:
      print(f"{r['input']}: {r['label']} ({r['confidence']:.3f})")
  else:
    print(text)
  return 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "input"])
  app.run(lambda argv: sys.exit(main(argv)))

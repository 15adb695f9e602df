"""Trains the HHT CNN encoder, then the SVM on its features; predicts the held-out 'test' files.

  python launch/cnn_svm.py --config configs/cnn_svm.py --workdir runs/cnn_svm [--resume]

Writes workdir/cnn_svm/{latest,final}/ checkpoints, svm_report.md and test_predictions.json.
--resume continues the encoder training of an existing workdir from its latest checkpoint.
"""

from __future__ import annotations

import json
import pathlib
import sys

from absl import app, flags, logging
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Run folder.")
_RESUME = flags.DEFINE_bool("resume", False, "Continue the run in --workdir from its latest checkpoint.")


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from research.studies import cnn_svm
  from research.train import TrainingError

  workdir = pathlib.Path(_WORKDIR.value)
  try:
    summary = cnn_svm.train(_CONFIG.value, workdir, resume=_RESUME.value)
  except (TrainingError, ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  if (workdir / "svm_report.md").exists():
    print((workdir / "svm_report.md").read_text())
  print(json.dumps(summary, indent=2))
  print(f"Test predictions: {workdir / 'test_predictions.json'}")
  return 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["config", "workdir"])
  app.run(lambda argv: sys.exit(main(argv)))

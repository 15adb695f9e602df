"""Stratified K-fold CV of a config and the Random Forest baseline on the same folds.

  python launch/cv.py --config configs/maxcrnn.py --folds 5 [--workdir DIR]
      [--baseline configs/random_forest.py | --nouse_baseline] [--config.train.epochs=100]

The neural folds train together as one vmapped program. Writes cv_report.json,
cv_report.md and plots/cv_accuracy.png.
"""

from __future__ import annotations

import datetime
import pathlib
import sys

from absl import app, flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_BASELINE = config_flags.DEFINE_config_file("baseline", "configs/random_forest.py",
                                            "Forest config trained on the same folds.", lock_config=True)
_USE_BASELINE = flags.DEFINE_bool("use_baseline", True, "Also cross-validate the baseline.")
_FOLDS = flags.DEFINE_integer("folds", None, "Folds (default config.cv.folds).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output folder; default runs/cv-<config>-<time>.")


def main(argv):
  del argv
  from research.data import load_dataset
  from research.studies import cv

  config = _CONFIG.value
  name = pathlib.Path(flags.FLAGS["config"].config_filename.split(":")[0]).stem
  workdir = pathlib.Path(_WORKDIR.value or pathlib.Path("runs") / (
      f"cv-{name}-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
  baseline = _BASELINE.value if _USE_BASELINE.value and config.model.name != "random_forest" else None
  if baseline is not None:  # the baseline sees exactly the neural config's data and folds
    with baseline.unlocked():
      baseline.data = config.data
      baseline.cv = config.cv
  try:
    cv.run_cv(config, load_dataset(config), workdir, forest_config=baseline, folds=_FOLDS.value)
  except (ValueError, FileNotFoundError, KeyError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  print((workdir / "cv_report.md").read_text())
  print(f"Workdir: {workdir}")
  return 0


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  app.run(lambda argv: sys.exit(main(argv)))

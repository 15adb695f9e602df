"""K-fold CV of any config and a baseline config (the Random Forest by default) on the same folds.

  python launch/cv.py --config configs/maxcrnn.py --folds 5 [--workdir DIR]
      [--baseline configs/random_forest.py | --nouse_baseline] [--config.train.epochs=100]

Networks train all folds as one vmapped program. The baseline sees exactly the
config's data and folds (no forest baseline for regression tasks). Writes
cv_report.json, cv_report.md and plots/cv_scores.png; re-running the same command
on the same --workdir resumes an interrupted CV.
"""

from __future__ import annotations

import sys

from absl import flags, logging
from ml_collections import config_flags

from research import cli

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_BASELINE = config_flags.DEFINE_config_file("baseline", "configs/random_forest.py",
                                            "Config cross-validated on the same folds.", lock_config=True)
_USE_BASELINE = flags.DEFINE_bool("use_baseline", True, "Also cross-validate the baseline.")
_FOLDS = flags.DEFINE_integer("folds", None, "Folds (default config.cv.folds, else 5).")
flags.DEFINE_string("workdir", None, "Output folder; default runs/cv-<config>-<time>.")


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from research import distributed
  from research.data import load_dataset
  from research.errors import ResearchError
  from research.studies import cv

  config = _CONFIG.value
  workdir = cli.workdir("cv")
  baseline = _BASELINE.value if _USE_BASELINE.value else None
  if baseline is not None and config.task.name == "regression":
    print("note: no baseline for a regression task (the forest is a classifier); the report compares "
          "with the zero prediction", file=sys.stderr)
    baseline = None
  if baseline is not None and baseline.to_json_best_effort() == config.to_json_best_effort():
    baseline = None  # Cross-validating the baseline itself.
  if baseline is not None:  # The baseline sees exactly the config's data and folds.
    with baseline.unlocked():
      baseline.data = config.data
      baseline.cv = cv.settings(config)
      if "mesh" in config:  # One device layout for the whole program.
        baseline.mesh = config.mesh
  try:
    cv.run_cv(config, load_dataset(config), workdir, baseline_config=baseline, folds=_FOLDS.value)
  except (ResearchError, ValueError, FileNotFoundError, KeyError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  if distributed.is_writer():
    print((workdir / "cv_report.md").read_text())
    print(f"Workdir: {workdir}")
  return 0


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  cli.run(main)

"""K-fold CV of any config and a baseline config (the Random Forest by default) on the same folds.

  python launch/cv.py --config configs/maxcrnn.py --folds 5 [--workdir DIR]
      [--baseline configs/random_forest.py | --nouse_baseline] [--config.train.epochs=100]

Networks train all folds as one program. The baseline sees exactly the
config's data and folds (no forest baseline for regression tasks). Writes
cv_report.json, cv_report.md and plots/cv_scores.png; re-running the same command
on the same --workdir resumes an interrupted CV.
"""

from __future__ import annotations

from absl import flags
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
  from research.studies import cv

  workdir = cli.workdir("cv")
  cv.run_cv(_CONFIG.value, None, workdir, baseline_config=_BASELINE.value if _USE_BASELINE.value else None,
            folds=_FOLDS.value)
  return cli.show(workdir / "cv_report.md", workdir)


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  cli.run(main)

"""Transfer gap: train/validate on the source domain, test on the target, for a config and the forest.

  python launch/transfer.py --config configs/maxcrnn.py [--baseline configs/random_forest.py]
      [--nouse_baseline] [--config.transfer.every=10] [--workdir DIR]

Writes transfer_report.md/.json, history.jsonl (with target_accuracy every N
epochs), plots/transfer_curves.png and plots/transfer_gap.png.
"""

from __future__ import annotations

from absl import flags
from ml_collections import config_flags

from research import cli

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_BASELINE = config_flags.DEFINE_config_file("baseline", "configs/random_forest.py",
                                            "Forest config fit on the same source split.", lock_config=True)
_USE_BASELINE = flags.DEFINE_bool("use_baseline", True, "Also measure the baseline's gap.")
flags.DEFINE_string("workdir", None, "Output folder; default runs/transfer-<config>-<time>.")


def main(argv):
  del argv
  from research.studies import transfer

  workdir = cli.workdir("transfer")
  transfer.run_transfer(_CONFIG.value, None, workdir,
                        baseline_config=_BASELINE.value if _USE_BASELINE.value else None)
  return cli.show(workdir / "transfer_report.md", workdir)


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  cli.run(main)

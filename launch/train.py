"""Trains any config (network, head, or both) into a workdir, then reports it.

  python launch/train.py --config configs/lstm_filter.py [--workdir DIR] [--config.train.epochs=5]

With configs/auto.py it cross-validates the listed candidates on the training split, trains the best
into the workdir as an ordinary run and shows auto_report.md (research/studies/auto.py).
Re-running on an existing workdir resumes it (training fields may change, except those that shape
the saved state, such as the optimizer's kind: research/train/resume.py; a head is refitted). One
training writes a workdir at a time: a second is refused, naming the first (research/workdir_lock.py).
"""

from __future__ import annotations

from absl import flags
from ml_collections import config_flags

from research import cli

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
flags.DEFINE_string("workdir", None, "Run folder; default runs/<config>-<time>.")


def main(argv):
  del argv
  workdir = cli.workdir()
  if "auto" in _CONFIG.value:  # configs/auto.py: the classifier chosen by CV on the training split
    from research.studies import auto
    auto.run_auto(_CONFIG.value, None, workdir)
    return cli.show(workdir / "auto_report.md", workdir)
  from research.train import fit

  report = fit(_CONFIG.value, workdir=workdir)
  return cli.show(workdir / "report.md", workdir) if report else 1


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  cli.run(main)

"""Trains any config (network, head, or both) into a workdir, then reports it.

  python launch/train.py --config configs/lstm_filter.py [--workdir DIR] [--config.train.epochs=5]

Re-running on an existing workdir resumes it (training fields may change; a head is refitted).
"""

from __future__ import annotations

import sys

from absl import flags, logging
from ml_collections import config_flags

from research import cli

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
flags.DEFINE_string("workdir", None, "Run folder; default runs/<config>-<time>.")


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from research import distributed
  from research.data import load_dataset, transforms
  from research.errors import ResearchError
  from research.train import fit

  config = _CONFIG.value
  workdir = cli.workdir()
  try:
    report = fit(config, transforms.prepare_dataset(config, load_dataset(config)), workdir)
  except (ResearchError, ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  if distributed.is_writer():
    print((workdir / "report.md").read_text())
    print(f"Workdir: {workdir}")
  return 0 if report else 1


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  cli.run(main)

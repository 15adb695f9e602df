"""Fits the Random Forest baseline of a config and reports it.

  python launch/forest.py --config configs/random_forest.py [--workdir DIR] [--config.forest.grid_search=false]
"""

from __future__ import annotations

import datetime
import pathlib
import sys

from absl import app, flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Forest config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Run folder; default runs/<config>-<time>.")


def main(argv):
  del argv
  from research.data import load_dataset
  from research.studies import forest_run

  config = _CONFIG.value
  name = pathlib.Path(flags.FLAGS["config"].config_filename.split(":")[0]).stem
  workdir = pathlib.Path(_WORKDIR.value or pathlib.Path("runs") / (
      f"{name}-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
  try:
    forest_run.fit_forest_run(config, load_dataset(config), workdir)
  except (ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  print((workdir / "report.md").read_text())
  print(f"Workdir: {workdir}")
  return 0


if __name__ == "__main__":
  flags.mark_flag_as_required("config")
  app.run(lambda argv: sys.exit(main(argv)))

"""Ablation table: vary config fields, train each condition, compare with the first (baseline).

  python launch/ablate.py --config configs/maxcrnn.py --vary augment.enabled=true,false [--seeds 3]
      [--vary augment.mode=online,static ...] [--workdir DIR]

Any field can be varied (typed by its current value; tuples as a/b/c). Seeds of
one condition train together (one program). Writes ablation.md, ablation.json and
plots/ablation.png.
"""

from __future__ import annotations

from absl import flags
from ml_collections import config_flags

from research import cli

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_VARY = flags.DEFINE_multi_string("vary", None, "field=value1,value2 (repeatable).")
_SEEDS = flags.DEFINE_integer("seeds", 1, "Seeds per condition (config.seed, +1, ...).")
flags.DEFINE_string("workdir", None, "Output folder; default runs/ablate-<config>-<time>.")


def main(argv):
  del argv
  from research.studies import ablation

  workdir = cli.workdir("ablate")
  ablation.run_ablation(_CONFIG.value, _VARY.value, workdir, seeds=_SEEDS.value)
  return cli.show(workdir / "ablation.md", workdir)


if __name__ == "__main__":
  flags.mark_flags_as_required(["config", "vary"])
  cli.run(main)

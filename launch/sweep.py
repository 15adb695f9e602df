"""Sweep table: every combination of the varied fields x seeds, same-program points trained together.

  python launch/sweep.py --config configs/sign_lstm.py --vary optim.lr=1e-3,5e-4 \
      --vary model.dropout=0.2,0.5 --seeds 3 [--workdir DIR] [--config.mesh.devices=4]

Points that differ only in the learning rate (and seed) train as one program spread
over the devices (config.mesh, runs axis); other fields make separate programs. Writes
sweep.md, sweep.json and plots/sweep.png (mean, std and 95% interval over seeds per point,
the best point, the trivial baselines). Re-running the same command resumes.
"""

from __future__ import annotations

from absl import flags
from ml_collections import config_flags

from research import cli

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
_VARY = flags.DEFINE_multi_string("vary", None, "field=value1,value2 (repeatable).")
_SEEDS = flags.DEFINE_integer("seeds", 1, "Seeds per point (config.seed, +1, ...).")
flags.DEFINE_string("workdir", None, "Output folder; default runs/sweep-<config>-<time>.")


def main(argv):
  del argv
  from research.studies import sweep

  workdir = cli.workdir("sweep")
  sweep.run_sweep(_CONFIG.value, _VARY.value, workdir, seeds=_SEEDS.value)
  return cli.show(workdir / "sweep.md", workdir)


if __name__ == "__main__":
  flags.mark_flags_as_required(["config", "vary"])
  cli.run(main)

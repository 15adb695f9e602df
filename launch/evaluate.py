"""Re-evaluates a workdir's best checkpoint and rewrites its report.

  python launch/evaluate.py --workdir DIR [--split test]
"""

from __future__ import annotations

from absl import flags

from research import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained run's folder.", required=True)
_SPLIT = flags.DEFINE_enum("split", "test", ["train", "val", "test"], "Split to evaluate.")


def main(argv):
  del argv
  from research.train import report

  report(_WORKDIR.value, _SPLIT.value)
  return cli.show(f"{_WORKDIR.value}/report.md")


if __name__ == "__main__":
  cli.run(main)

"""Re-evaluates a workdir's best checkpoint and rewrites its report.

  python launch/evaluate.py --workdir DIR [--split test]
"""

from __future__ import annotations

import sys

from absl import flags, logging

from research import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained run's folder.", required=True)
_SPLIT = flags.DEFINE_enum("split", "test", ["train", "val", "test"], "Split to evaluate.")


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from research.errors import ResearchError
  from research.train import report

  try:
    report(_WORKDIR.value, _SPLIT.value)
  except (ResearchError, ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  with open(f"{_WORKDIR.value}/report.md") as f:
    print(f.read())
  return 0


if __name__ == "__main__":
  cli.run(main)

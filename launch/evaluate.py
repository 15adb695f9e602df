"""Re-evaluates a workdir's best checkpoint and rewrites its report.

  python launch/evaluate.py --workdir DIR [--split val]

--split defaults to the run's config.eval.split (an unlabelled split is refused: predict it
with launch/predict.py). While a training holds the workdir (research.workdir_lock), the
report of its newest committed checkpoint is printed and nothing in the workdir is written:
history.jsonl, plots/ and report.md stay the trainer's.
"""

from __future__ import annotations

import sys

from absl import flags

from research import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained run's folder.", required=True)
_SPLIT = flags.DEFINE_enum("split", None, ["train", "val", "test"],
                           "Split to evaluate; default: the run's config.eval.split.")


def main(argv):
  del argv
  from research import workdir_lock
  from research.train import report, reporting

  busy = workdir_lock.holder(_WORKDIR.value)
  if busy is not None:
    print(f"note: {_WORKDIR.value} is being trained by {busy}; reporting its newest saved checkpoint "
          "without writing report.md (run evaluate again after the training to write it)", file=sys.stderr)
    print(reporting.preview(_WORKDIR.value, _SPLIT.value))
    return 0
  report(_WORKDIR.value, _SPLIT.value)
  return cli.show(f"{_WORKDIR.value}/report.md")


if __name__ == "__main__":
  cli.run(main)

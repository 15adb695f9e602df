"""Trains each config on each dataset and writes one results table (Markdown, JSON, a plot).

  python launch/benchmark.py --configs minirocket,inception_time,sign_lstm:small,maxcrnn:small \
      --datasets BasicMotions,GunPoint,/data/UEA/Epilepsy [--workdir runs/benchmark] \
      [--set train.epochs=200 --set train.ensemble=1]

--configs: names in configs/ (name or name:variant) or config file paths.
--datasets: problems a pip package ships (aeon's bundled UCR/UEA sets), `*_TRAIN.ts` files or
folders holding one (the `*_TEST.ts` beside it is the test split).
--set key=value: a config field set in every config (skipped nowhere: a config without the
field stops the benchmark before training).
Re-running the same command resumes; finished cells are read back, failed ones retried.
"""

from __future__ import annotations

import pathlib

from absl import flags

from research import cli

_CONFIGS = flags.DEFINE_list("configs", None, "Configs: names in configs/ or file paths, with :variant.")
_DATASETS = flags.DEFINE_list("datasets", None, "Bundled problem names, *_TRAIN.ts files or folders.")
_WORKDIR = flags.DEFINE_string("workdir", "runs/benchmark", "Output folder (one sub-folder per cell).")
_SET = flags.DEFINE_multi_string("set", [], "key=value applied to every config, e.g. train.epochs=100.")


def config_path(text: str) -> str:
  """'inception_time:small' -> 'configs/inception_time.py:small'; paths are kept."""
  file, _, variant = text.partition(":")
  if not file.endswith(".py"):
    file = str(pathlib.Path("configs") / f"{file}.py")
  return file + (f":{variant}" if variant else "")


def main(argv):
  del argv
  from research.studies import benchmark

  overrides = benchmark.parse_overrides(_SET.value)
  cells = benchmark.run([config_path(c) for c in _CONFIGS.value], _DATASETS.value, _WORKDIR.value, overrides)
  cli.show(pathlib.Path(_WORKDIR.value) / "benchmark.md", _WORKDIR.value)
  return 1 if any(c.error for c in cells) else 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["configs", "datasets"])
  cli.run(main)

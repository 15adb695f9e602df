"""First vs second start of each config with JAX's persistent compilation cache.

  python benchmarks/second_start.py [--configs tcn,sign_lstm,...] [--epochs 1]

Each config trains `--epochs` epochs twice, in two fresh processes and two fresh workdirs,
sharing one new, empty cache folder (RESEARCH_JAX_CACHE): the first start compiles and fills
the cache, the second loads from it. Reported per config: the process's wall time and the
first epoch's seconds (history.jsonl: compilation of the step plus one epoch), first and
second, and the same with the cache off for reference. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT = "tcn,sign_lstm,lstm_filter,maxcrnn,cnn_svm,inception_time,minirocket,random_forest"


def start(config: str, epochs: int, cache: str, workdir: pathlib.Path) -> tuple[float, float | None]:
  """(process seconds, first epoch seconds or None for a run without epochs)."""
  env = {**os.environ, "RESEARCH_JAX_CACHE": cache}
  command = [sys.executable, "launch/train.py", f"--config=configs/{config}.py", f"--workdir={workdir}"]
  if config not in ("minirocket", "random_forest"):
    command.append(f"--config.train.epochs={epochs}")
  began = time.perf_counter()
  result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
  seconds = time.perf_counter() - began
  if result.returncode != 0:
    raise SystemExit(f"{config}: {result.stderr[-2000:]}")
  history = workdir / "history.jsonl"
  rows = [json.loads(line) for line in history.read_text().splitlines()] if history.exists() else []
  return seconds, (rows[0]["seconds"] if rows else None)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--configs", default=DEFAULT)
  parser.add_argument("--epochs", type=int, default=1)
  args = parser.parse_args()
  fmt = lambda v: "-" if v is None else f"{v:.1f}"
  print("| config | no cache: process s | first start: process s (epoch 1 s) | "
        "second start: process s (epoch 1 s) | epoch 1 first / second |")
  print("|---|---|---|---|---|")
  for config in args.configs.split(","):
    with tempfile.TemporaryDirectory() as tmp:
      tmp = pathlib.Path(tmp)
      off, _ = start(config, args.epochs, "off", tmp / "off")
      first, first_epoch = start(config, args.epochs, str(tmp / "cache"), tmp / "first")
      second, second_epoch = start(config, args.epochs, str(tmp / "cache"), tmp / "second")
      ratio = f"{first_epoch / second_epoch:.1f}x" if first_epoch and second_epoch else "-"
      print(f"| {config} | {off:.1f} | {first:.1f} ({fmt(first_epoch)}) | {second:.1f} ({fmt(second_epoch)}) | "
            f"{ratio} |", flush=True)


if __name__ == "__main__":
  main()

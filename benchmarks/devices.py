"""Wall time of a 5-fold CV and of an 8-point sweep on 1 vs N forced host devices.

  python benchmarks/devices.py [--config configs/lstm_filter.py:smoke] [--epochs 10] [--devices 1,4]

Each study runs as its own process (launch/cv.py --nouse_baseline, launch/sweep.py with
--vary optim.lr=4 values --vary model.dropout=2 values: 8 points in 2 programs of 4) with
XLA_FLAGS=--xla_force_host_platform_device_count=N and the compilation cache off; the mesh
is the default (runs axis over every device). Forced host devices share the machine's
cores, so this measures the overhead of the sharded program, not a speed-up; on real
accelerators each device brings its own compute. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def studies(config: str, epochs: int, workdir: pathlib.Path) -> dict[str, list[str]]:
  common = [f"--config={config}", f"--config.train.epochs={epochs}",
            "--config.train.early_stopping.enabled=false"]
  return {
      "5-fold CV": [sys.executable, "launch/cv.py", *common, "--folds=5", "--nouse_baseline",
                    f"--workdir={workdir / 'cv'}"],
      "8-point sweep": [sys.executable, "launch/sweep.py", *common, "--vary=optim.lr=1e-3,2e-3,5e-3,1e-2",
                        "--vary=model.dropout=0.0,0.2", f"--workdir={workdir / 'sweep'}"],
  }


def timed(command: list[str], devices: int) -> float:
  env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
         "RESEARCH_JAX_CACHE": "off", "PYTHONPATH": str(ROOT)}
  began = time.perf_counter()
  result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
  if result.returncode != 0:
    raise SystemExit(f"{' '.join(command)} on {devices} device(s) failed:\n{result.stderr[-2000:]}")
  return time.perf_counter() - began


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--config", default="configs/lstm_filter.py:smoke")
  parser.add_argument("--epochs", type=int, default=10)
  parser.add_argument("--devices", default="1,4")
  args = parser.parse_args()
  counts = [int(d) for d in args.devices.split(",")]
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    for name in studies(args.config, args.epochs, pathlib.Path(tmp)):
      seconds = []
      for devices in counts:
        workdir = pathlib.Path(tmp) / f"{devices}"
        seconds.append(timed(studies(args.config, args.epochs, workdir)[name], devices))
        print(f"{name} on {devices} device(s): {seconds[-1]:.1f} s", file=sys.stderr, flush=True)
      rows.append((name, seconds))
  print(f"{args.config}, {args.epochs} epochs, {os.cpu_count()} CPU cores, wall seconds per process "
        "(start, compilation, training, report):\n")
  print("| study | " + " | ".join(f"{d} device(s)" for d in counts) + " |")
  print("|---|" + "---|" * len(counts))
  for name, seconds in rows:
    print(f"| {name} | " + " | ".join(f"{s:.1f}" for s in seconds) + " |")


if __name__ == "__main__":
  main()

"""Whole-process seconds of a feature-map classifier on a new dataset: ours against aeon's.

  python benchmarks/first_start.py [--datasets OSULeaf,ACSF1,GunPoint,BasicMotions]
                                   [--method minirocket|multirocket_hydra|quant] [--repeat 1]

Per dataset (aeon's bundled UCR/UEA sets, read from the installed package), each a fresh process,
alternating: aeon, ours with the compilation cache off, aeon, ours with a new empty cache (cold),
aeon, ours again on that cache (warm). Ours is `launch/train.py --config configs/minirocket.py`
(or configs/multirocket_hydra.py) on the set's `_TRAIN.ts`; aeon's is a process that imports aeon,
loads the set, fits its classifier (one job) and predicts the test split. aeon's numba cache
is filled once before timing (a warm-up process) and our modules are byte-compiled once (as a
first import writes them; aeon's were compiled when pip installed it). Each figure comes with the 1-minute load
average when it started (2 cores, shared). Prints a Markdown table and one JSON line per dataset.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = {"minirocket": "configs/minirocket.py", "multirocket_hydra": "configs/multirocket_hydra.py",
           "quant": "configs/quant.py"}
AEON = {"minirocket": ("aeon.classification.convolution_based", "MiniRocketClassifier"),
        "quant": ("aeon.classification.interval_based", "QUANTClassifier"),
        "multirocket_hydra": ("aeon.classification.convolution_based", "MultiRocketHydraClassifier")}
AEON_SCRIPT = """
import sys, importlib, inspect
from aeon.datasets import load_classification
module, name, dataset = sys.argv[1:4]
x_train, y_train = load_classification(dataset, split="train")
x_test, y_test = load_classification(dataset, split="test")
classifier = getattr(importlib.import_module(module), name)
one_job = {"n_jobs": 1} if "n_jobs" in inspect.signature(classifier).parameters else {}  # QUANT has none
model = classifier(random_state=0, **one_job).fit(x_train, y_train)
print("accuracy", (model.predict(x_test) == y_test).mean())
"""


def data_folder() -> pathlib.Path:
  import aeon  # only to find its bundled data
  return pathlib.Path(aeon.__file__).parent / "datasets" / "data"


def timed(command, env=None) -> dict:
  load = round(os.getloadavg()[0], 2)
  began = time.perf_counter()
  result = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
  seconds = time.perf_counter() - began
  if result.returncode != 0:
    raise SystemExit(f"{command}: {result.stderr[-2000:]}")
  return {"s": round(seconds, 2), "load": load}


def aeon_run(method: str, dataset: str) -> dict:
  return timed([sys.executable, "-c", AEON_SCRIPT, *AEON[method], dataset])


def ours_run(method: str, dataset: str, cache: str, workdir: pathlib.Path) -> dict:
  train = data_folder() / dataset / f"{dataset}_TRAIN.ts"
  return timed([sys.executable, "launch/train.py", f"--config={CONFIGS[method]}", f"--workdir={workdir}",
                f"--config.data.path={train}"], env={"RESEARCH_JAX_CACHE": cache, "PYTHONPATH": str(ROOT)})


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--datasets", default="OSULeaf,ACSF1,GunPoint,BasicMotions")
  parser.add_argument("--method", default="minirocket", choices=sorted(CONFIGS))
  parser.add_argument("--repeat", type=int, default=1)
  args = parser.parse_args()
  aeon_run(args.method, "GunPoint")  # numba's cache filled (and torch's import warmed) once
  for folder in ("research", "configs", "launch"):  # with PYTHONDONTWRITEBYTECODE set nothing else would
    compileall.compile_dir(ROOT / folder, quiet=1)
  cell = lambda r: f"{r['s']:.1f} ({r['load']})"
  print(f"{args.method}: whole process s (1-min load at start)")
  print("| dataset | aeon (median) | ours, no cache | ours, cold cache | ours, warm cache | "
        "warm / aeon | cold / aeon |")
  print("|---|---|---|---|---|---|---|")
  for dataset in args.datasets.split(","):
    for _ in range(args.repeat):
      with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        aeon = [aeon_run(args.method, dataset)]
        off = ours_run(args.method, dataset, "off", tmp / "off")
        aeon.append(aeon_run(args.method, dataset))
        cold = ours_run(args.method, dataset, str(tmp / "cache"), tmp / "cold")
        aeon.append(aeon_run(args.method, dataset))
        warm = ours_run(args.method, dataset, str(tmp / "cache"), tmp / "warm")
      median = statistics.median(r["s"] for r in aeon)
      row = {"dataset": dataset, "method": args.method, "aeon": aeon, "off": off, "cold": cold, "warm": warm}
      print(f"| {dataset} | {median:.1f} ({', '.join(cell(r) for r in aeon)}) | {cell(off)} | {cell(cold)} | "
            f"{cell(warm)} | {warm['s'] / median:.2f} | {cold['s'] / median:.2f} |", flush=True)
      print("json", json.dumps(row), file=sys.stderr, flush=True)


if __name__ == "__main__":
  main()

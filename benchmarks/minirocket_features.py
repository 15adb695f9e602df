"""Seconds of MiniRocket's compiled transform (research.heads.minirocket.batched) alone.

  python benchmarks/minirocket_features.py [--lengths 150,427,1460] [--series 442] [--repeat 3]

Per length: `fit` on 200 random univariate series (N(0, 1)), then the transform of `--series`
series after a warm-up call that compiles; prints the best wall seconds of `--repeat` calls and the
process CPU seconds of one call (both cores busy: CPU ~2x wall). aeon's `MiniRocket(n_jobs=1)`
transform of the same data with `--aeon`.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def _cpu() -> float:
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return usage.ru_utime + usage.ru_stime


def timed(transform, x, repeat: int) -> dict:
  transform(x[:16])  # compiles (ours) or warms numba (aeon)
  walls, cpus = [], []
  for _ in range(repeat):
    cpu, started = _cpu(), time.perf_counter()
    transform(x)
    walls.append(time.perf_counter() - started)
    cpus.append(_cpu() - cpu)
  return {"wall_s": round(min(walls), 3), "cpu_s": round(min(cpus), 3)}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--lengths", default="150,427,1460")
  parser.add_argument("--series", type=int, default=442)
  parser.add_argument("--repeat", type=int, default=3)
  parser.add_argument("--aeon", action="store_true", help="also time aeon's transform")
  args = parser.parse_args()
  from research.heads import minirocket
  for length in [int(v) for v in args.lengths.split(",")]:
    x = np.random.default_rng(0).normal(size=(max(args.series, 200), length, 1)).astype(np.float32)[:args.series]
    params = minirocket.fit(x[:200], seed=0)
    row = {"length": length, "series": args.series, "ours": timed(minirocket.batched(params), x, args.repeat)}
    if args.aeon:
      from aeon.transformations.collection.convolution_based import MiniRocket
      theirs = MiniRocket(random_state=0, n_jobs=1).fit(x[:200].transpose(0, 2, 1).astype(np.float64))
      row["aeon"] = timed(lambda a: theirs.transform(a.transpose(0, 2, 1).astype(np.float64)), x, args.repeat)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
  main()

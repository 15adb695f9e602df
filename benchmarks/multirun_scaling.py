"""R runs as one vmapped program (the multi-run driver) against R runs one by one.

  python benchmarks/multirun_scaling.py [--families sign_lstm,maxcrnn,tcn,lstm_filter,inception_time,hht_cnn]
                                        [--runs 1,5,20] [--epochs 4] [--repeat 1] [--group-size 0]
                                        [--layouts vmap]

Each family's full-size model (its config) on small random data (SIZES below), early
stopping off, no checkpoints. Vmapped: one `research.train.loop.train_many` call with R
RunSpecs (seeds 0..R-1, shared data), or with `--group-size G` one `train_in_groups` call
(consecutive groups of G runs, one program each, as config.train.runs_per_program). One by
one: R calls with one RunSpec each. `--layouts vmap,sequential` times the R-run program both ways
(config.train.runs: "vmap" batches the runs into one computation, "sequential" computes them one
after another inside the program; the row's key "vmapped" holds vmap, "sequential" the other). Every
repetition uses a fresh persistent compilation cache, so each program compiles once: the
one-by-one runs compile the single-run program in the first call and load it from the
cache in the others (what R launch/train.py runs do). History rows give each epoch's
seconds: epoch 1 holds the compile, `epoch_s` is the median of epochs 2..E. Reported:
  vmapped:    compile_s (epoch 1 - epoch_s), epoch_s, wall_s (the whole call), setup_s (wall_s
              less the epochs: initialising R states, placing data, reading weights back);
  one by one: compile_s (the first call's), cache_load_s (the other calls' epoch 1 - epoch_s),
              epoch_s, wall_s and setup_s summed over the R calls;
  ratio_epoch = vmapped epoch_s / one-by-one epoch_s (compilation excluded),
  ratio_wall  = vmapped wall_s / one-by-one wall_s (compilation included).
Prints one JSON line per (family, R, repetition), vmapped and one-by-one alternating.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time

import jax
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from research import config_file  # noqa: E402
from research.train import loop as multirun  # noqa: E402

# family: (config, training examples, validation examples, example shape, classes; 0 = regression)
SIZES = {
    "sign_lstm": ("sign_lstm", 64, 16, (30, 1662), 10),
    "maxcrnn": ("maxcrnn", 128, 32, (1000, 1), 4),
    "tcn": ("tcn", 256, 64, (30, 25), 5),
    "lstm_filter": ("lstm_filter", 1024, 256, (50, 5), 0),
    "inception_time": ("inception_time", 40, 8, (100, 6), 4),
    "hht_cnn": ("cnn_svm", 64, 16, (64, 64, 1), 6),
}


def config_for(family: str, epochs: int):
  name, *_ = SIZES[family]
  config = config_file.load(ROOT / "configs" / f"{name}.py")
  config.train.epochs = epochs
  config.train.early_stopping.enabled = False
  if family == "lstm_filter":
    config.data.fresh_noise = False  # the redraw needs the recorded signal; random data has none
  return config


def random_split(family: str, n: int, seed: int) -> dict:
  _, _, _, shape, classes = SIZES[family]
  rng = np.random.default_rng(seed)
  split = {"x": rng.normal(size=(n,) + shape).astype(np.float32)}
  if classes:
    split["y"] = (np.arange(n) % classes).astype(np.int32)
  else:
    split["y"] = rng.normal(size=(n, shape[0], 1)).astype(np.float32)
  if family == "tcn":
    seg = np.zeros((n, shape[0]), np.float32)
    has_start = np.arange(n) % 4 == 0
    seg[has_start, rng.integers(0, shape[0], has_start.sum())] = 1.0
    split.update({"seg": seg, "has_start": has_start.astype(np.int32)})
  return split


def meta_for(family: str) -> dict:
  classes = SIZES[family][4]
  return {"class_names": [f"c{i}" for i in range(classes)], "input_shape": list(SIZES[family][3])}


def timed_call(config, meta, specs, group_size: int = 0) -> dict:
  """One training call: wall seconds, and per program (group) its first epoch and the median of
  the others, summed over the groups (one run read per group: its runs share the epoch)."""
  started = time.perf_counter()
  results = multirun.train_in_groups(config, meta, specs, group_size=group_size, log=None)
  wall = time.perf_counter() - started
  firsts = [results[part.start] for part in multirun.group_slices(len(specs), group_size)]
  seconds = [[row["seconds"] for row in r.history] for r in firsts]
  epoch = sum(statistics.median(s[1:]) for s in seconds)
  first = sum(s[0] for s in seconds)
  return {"wall_s": wall, "first_s": first, "epoch_s": epoch, "compile_s": first - epoch,
          "setup_s": wall - sum(sum(s) for s in seconds)}


def together(config, meta, train, val, runs: int, group_size: int, layout: str) -> dict:
  config = config.copy_and_resolve_references()
  config.train.runs = layout
  return timed_call(config, meta, [multirun.RunSpec(seed=s, train=train, val=val) for s in range(runs)],
                    group_size)


def one_by_one(config, meta, train, val, runs: int) -> dict:
  calls = [timed_call(config, meta, [multirun.RunSpec(seed=s, train=train, val=val)]) for s in range(runs)]
  total = {key: sum(c[key] for c in calls) for key in ("wall_s", "epoch_s", "setup_s")}
  # The first call compiles; the others load the program from the cache.
  return {**total, "compile_s": calls[0]["compile_s"], "cache_load_s": sum(c["compile_s"] for c in calls[1:])}


def fresh_cache() -> str:
  folder = tempfile.mkdtemp(prefix="multirun-scaling-cache-")
  jax.config.update("jax_compilation_cache_dir", folder)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return folder


SIDES = {"vmap": "vmapped", "sequential": "sequential"}  # config.train.runs: the row's key


def measure(family: str, runs: int, epochs: int, repetition: int, group_size: int = 0,
            layouts: tuple[str, ...] = ("vmap",)) -> dict:
  config, meta = config_for(family, epochs), meta_for(family)
  _, n_train, n_val, shape, _ = SIZES[family]
  train, val = random_split(family, n_train, 0), random_split(family, n_val, 1)
  fresh_cache()
  row = {"family": family, "runs": runs, "repetition": repetition, "train": n_train, "val": n_val,
         "shape": list(shape), "batch_size": config.train.batch_size, "epochs": epochs, "group_size": group_size}
  order = (*layouts, "one_by_one") if repetition % 2 == 0 else ("one_by_one", *layouts)
  for side in order:
    if runs == 1 and side != "one_by_one":
      continue  # R = 1 is the single-run program either way
    result = (one_by_one(config, meta, train, val, runs) if side == "one_by_one"
              else together(config, meta, train, val, runs, group_size, side))
    row[SIDES.get(side, side)] = {k: round(v, 3) for k, v in result.items()}
  for layout in layouts if runs > 1 else ():
    suffix = "" if layout == "vmap" else f"_{layout}"
    for what in ("epoch", "wall"):
      row[f"ratio_{what}{suffix}"] = round(row[SIDES[layout]][f"{what}_s"] / row["one_by_one"][f"{what}_s"], 3)
  return row


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--families", default=",".join(SIZES))
  parser.add_argument("--runs", default="1,5,20")
  parser.add_argument("--epochs", type=int, default=4, help="epochs per run; epoch 1 holds the compile")
  parser.add_argument("--repeat", type=int, default=1)
  parser.add_argument("--group-size", type=int, default=0, help="runs per vmapped program (0: all R)")
  parser.add_argument("--layouts", default="vmap", help="config.train.runs of the R-run program, comma separated")
  args = parser.parse_args()
  layouts = tuple(args.layouts.split(","))
  if not set(layouts) <= set(SIDES):
    parser.error(f"--layouts {args.layouts}: give some of {', '.join(SIDES)}")
  if args.group_size < 0:
    parser.error(f"--group-size {args.group_size}: give 0 (all R runs in one program) or a positive size")
  for family in args.families.split(","):
    for runs in [int(r) for r in args.runs.split(",")]:
      for repetition in range(args.repeat):
        print(json.dumps(measure(family, runs, args.epochs, repetition, args.group_size, layouts)), flush=True)


if __name__ == "__main__":
  main()

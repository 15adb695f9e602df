"""Where the LSTM filter's training step spends its time: per-op durations from a JAX profile.

  python benchmarks/lstm_profile.py [--steps 40] [--top 25]

Compiles the engine's epoch for configs/lstm_filter.py on its first `--steps` x 64 training
sequences (1,024 validation sequences), runs it once to warm up, then once under
`jax.profiler.trace(create_perfetto_trace=True)`. Every XLA operation's durations are summed
from the trace and divided by the number of training steps; each operation is placed by how
often it ran (inside the 50-step time loops, once per training step, once per epoch) and by
kind (matrix product or not, from the optimized HLO). Prints the grouped totals and the
`--top` operations with the source op each came from. Durations under the profiler run a
little slower than without it; their proportions are what to read.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import pathlib
import re
import sys
import tempfile
import time

import jax

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from research import config_file  # noqa: E402
from research.data import load_dataset  # noqa: E402
from research.models import build_model  # noqa: E402
from research.tasks import build_task  # noqa: E402
from research.train import engine, optim, sampling  # noqa: E402

NOT_OPS = re.compile(r"^(ThunkExecutor|\$|PjitFunction|SlinkyThreadPool|while\.|call\.|TfrtCpu|Execute|Common)")


def op_durations(trace_dir: str) -> tuple[collections.Counter, collections.Counter]:
  """(total microseconds, number of runs) per XLA operation name in the trace."""
  path = sorted(glob.glob(f"{trace_dir}/**/perfetto_trace.json.gz", recursive=True))[-1]
  events = json.load(gzip.open(path))
  events = events["traceEvents"] if isinstance(events, dict) else events
  total, count = collections.Counter(), collections.Counter()
  for event in events:
    if event.get("ph") == "X" and not NOT_OPS.match(event["name"]):
      total[event["name"]] += event.get("dur", 0)
      count[event["name"]] += 1
  return total, count


def describe(hlo: str, name: str) -> tuple[bool, str]:
  """(is a matrix product, shape and source op) of HLO instruction `name`."""
  match = re.search(r"%" + re.escape(name) + r" = (\S+) ([a-z-]+)\((.*)", hlo)
  if not match:
    return False, "?"
  source = re.search(r'op_name="([^"]*)"', match.group(3))
  source = source.group(1) if source else ""
  is_product = match.group(2) == "dot" or source.endswith("dot_general")
  return is_product, f"{match.group(1)} {source[-70:]}"


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--steps", type=int, default=40, help="training steps in the profiled epoch")
  parser.add_argument("--top", type=int, default=25, help="operations listed one by one")
  args = parser.parse_args()
  config = config_file.load(ROOT / "configs" / "lstm_filter.py")
  dataset = load_dataset(config)
  available = len(dataset.train["x"]) // config.train.batch_size
  if not 1 <= args.steps <= available:
    parser.error(f"--steps {args.steps}: the training split holds 1 to {available} full batches")
  model, task = build_model(config.model, dataset.meta), build_task(config.task, dataset.meta)
  optimizer = optim.build_optimizer(config.optim)
  state = engine.init_state(jax.random.PRNGKey(0), model, optimizer, dataset.train["x"], "min")
  size = args.steps * config.train.batch_size
  train = jax.device_put({k: dataset.train[k][:size] for k in ("x", "y", "start")})
  val = jax.device_put({k: dataset.val[k][:1024] for k in ("x", "y")})
  epoch_fn = engine.make_epoch_fn(model, task, optimizer, config.train, sampler=sampling.uniform)
  epoch = jax.jit(epoch_fn).lower(state, train, val).compile()  # Compiled once: run and read its HLO.
  hlo = epoch.as_text()
  state, metrics = epoch(state, train, val)  # Warm-up.
  jax.block_until_ready(metrics)
  started = time.perf_counter()
  state, metrics = epoch(state, train, val)
  jax.block_until_ready(metrics)
  wall = time.perf_counter() - started
  with tempfile.TemporaryDirectory() as trace_dir:
    with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
      state, metrics = epoch(state, train, val)
      jax.block_until_ready(metrics)
    total, count = op_durations(trace_dir)

  steps, time_steps = args.steps, config.data.window
  groups = collections.Counter()
  rows = []
  for name, microseconds in total.items():
    per_step = count[name] / steps
    where = ("time loop" if per_step >= 0.8 * time_steps else "per step" if per_step >= 0.9 else "per epoch")
    is_product, text = describe(hlo, name)
    groups[(where, "matrix products" if is_product else "other")] += microseconds
    rows.append((microseconds, per_step, name, text))
  print(f"epoch of {steps} steps: {wall / steps * 1e3:.1f} ms/step without the profiler; "
        f"op time summed under it: {sum(total.values()) / steps / 1e3:.1f} ms/step")
  print("\n| where | kind | ms / step |\n|---|---|---|")
  for (where, kind), microseconds in sorted(groups.items()):
    print(f"| {where} | {kind} | {microseconds / steps / 1e3:.2f} |")
  print("\n| ms / step | runs / step | us / run | operation | shape, source |\n|---|---|---|---|---|")
  for microseconds, per_step, name, text in sorted(rows, reverse=True)[:args.top]:
    print(f"| {microseconds / steps / 1e3:.2f} | {per_step:.1f} | {microseconds / (per_step * steps):.1f} | "
          f"{name} | {text} |")


if __name__ == "__main__":
  main()

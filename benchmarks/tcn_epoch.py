"""Seconds per training epoch of the workout-tracker TCN at the seed's shapes.

  python benchmarks/tcn_epoch.py [--windows 2048] [--epochs 3] [--causal] [--convs 2]

The engine's compiled epoch (balanced sampler, focal + 5 x BCE, Adam 5e-4, validation of
512 windows included) on random windows of 30 frames x 25 angles, batch 32, the model of
configs/tcn.py (8 blocks x 2 dilated convs, 128 filters, 4-head attention, ~0.88M
parameters). The first epoch pays the compile and is reported apart; the rest are timed.
Prints one JSON line: compile+first epoch, median epoch, ms per step and per window.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import jax
import numpy as np

from research import config_file
from research.models import build_model
from research.tasks import build_task
from research.train import engine, optim, sampling

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference.keras_tcn import windows  # noqa: E402  (the same windows for both frameworks)

_CONFIG = pathlib.Path(__file__).resolve().parents[1] / "configs" / "tcn.py"


def _config():
  return config_file.load(_CONFIG)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--windows", type=int, default=2048, help="training windows per epoch")
  parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the first")
  parser.add_argument("--causal", action="store_true")
  parser.add_argument("--convs", type=int, default=None, help="convolutions per residual block")
  args = parser.parse_args()
  config = _config()
  config.model.causal = args.causal
  if args.convs is not None:
    config.model.convs_per_block = args.convs
  meta = {"class_names": list(config.data.class_names)}
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  optimizer = optim.build_optimizer(config.optim)
  train, val = jax.device_put(windows(args.windows, 0)), jax.device_put(windows(512, 1))
  state = engine.init_state(jax.random.PRNGKey(0), model, optimizer, train["x"], "min")
  params = sum(a.size for a in jax.tree_util.tree_leaves(state.params))
  epoch_fn = jax.jit(engine.make_epoch_fn(model, task, optimizer, config.train,
                                          sampler=sampling.from_config(config),
                                          augment=sampling.augment_from_config(config)), donate_argnums=0)
  started = time.perf_counter()
  state, metrics = epoch_fn(state, train, val)
  jax.block_until_ready(metrics)
  first = time.perf_counter() - started
  times = []
  for _ in range(args.epochs):
    started = time.perf_counter()
    state, metrics = epoch_fn(state, train, val)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - started)
  steps = -(-args.windows // config.train.batch_size)
  median = float(np.median(times))
  print(json.dumps({
      "benchmark": "tcn_epoch", "device": jax.devices()[0].device_kind, "windows": args.windows,
      "batch_size": config.train.batch_size, "steps": steps, "shape": [30, 25], "params": int(params),
      "causal": args.causal, "convs_per_block": config.model.convs_per_block,
      "first_epoch_s": round(first, 2), "epoch_s_median": round(median, 3),
      "epoch_s_all": [round(t, 3) for t in times], "ms_per_step": round(1000 * median / steps, 2),
      "ms_per_window": round(1000 * median / args.windows, 3)}))


if __name__ == "__main__":
  main()

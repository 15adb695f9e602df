"""Seconds per training epoch of the LSTM frequency filter at the seed's size.

  python benchmarks/lstm_epoch.py [--epochs 2] [--torch] [--no-jax] [--fixed-only]

JAX: the engine's compiled epoch (35,823 sequences of 50 x 5, batch 64, 2-layer
LSTM(128), Adam + L2, clipping, validation included), timed after one warm-up
epoch that pays the compile: as configured (fresh noise drawn for every training
batch) and on the fixed data as the seed trains. With --torch (needs `pip install torch==2.13.0`),
the seed's PyTorch loop on the same data (benchmarks/reference/torch_lstm_filter.py), and the ratio.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import jax

from research import config_file
from research.data import load_dataset
from research.models import build_model
from research.tasks import build_task
from research.train import engine, optim, sampling

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference.torch_lstm_filter import time_torch  # noqa: E402  (the PyTorch loop lives there)


def time_jax(config, dataset, epochs: int, fresh_noise: bool) -> float:
  model = build_model(config.model, dataset.meta)
  task = build_task(config.task, dataset.meta)
  optimizer = optim.build_optimizer(config.optim)
  state = engine.init_state(jax.random.PRNGKey(0), model, optimizer, dataset.train["x"], "min")
  augment = sampling.augment_from_config(config) if fresh_noise else None
  epoch_fn = jax.jit(engine.make_epoch_fn(model, task, optimizer, config.train, sampler=sampling.uniform,
                                          augment=augment), donate_argnums=0)
  train = jax.device_put({k: dataset.train[k] for k in ("x", "y", "start")})
  val = jax.device_put({k: dataset.val[k] for k in ("x", "y")})
  state, metrics = epoch_fn(state, train, val)  # Compile + first epoch.
  jax.block_until_ready(metrics)
  started = time.perf_counter()
  for _ in range(epochs):
    state, metrics = epoch_fn(state, train, val)
    jax.block_until_ready(metrics)
  return (time.perf_counter() - started) / epochs


def main():
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
  parser.add_argument("--torch", action="store_true", help="also time the PyTorch loop")
  parser.add_argument("--no-jax", action="store_true", help="time only the PyTorch loop")
  parser.add_argument("--fixed-only", action="store_true", help="skip the fresh-noise JAX epoch")
  args = parser.parse_args()
  config = config_file.load(pathlib.Path(__file__).parents[1] / "configs" / "lstm_filter.py")
  dataset = load_dataset(config)
  print(f"train {len(dataset.train['x'])} sequences, batch {config.train.batch_size}, "
        f"devices {jax.devices()}")
  jax_seconds = None
  if not args.no_jax:
    jax_seconds = time_jax(config, dataset, args.epochs, fresh_noise=False)
    print(f"jax, fixed data:  {jax_seconds:.2f} s/epoch")
    if not args.fixed_only:
      print(f"jax, fresh noise: {time_jax(config, dataset, args.epochs, fresh_noise=True):.2f} s/epoch")
  if args.torch or args.no_jax:
    torch_seconds = time_torch(dataset, args.epochs)
    print(f"torch: {torch_seconds:.2f} s/epoch")
    if jax_seconds:
      print(f"ratio torch/jax (fixed data): {torch_seconds / jax_seconds:.2f} (above 1: JAX faster)")


if __name__ == "__main__":
  main()

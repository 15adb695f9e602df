"""Reference implementations (Keras, PyTorch) that benchmarks/run.py times against ours."""

import time


def seconds_per_epoch(one_epoch, epochs: int, warmup: bool = True) -> float:
  """Mean seconds of `epochs` calls of one_epoch(), after one untimed call when `warmup`."""
  if warmup:
    one_epoch()
  started = time.perf_counter()
  for _ in range(epochs):
    one_epoch()
  return (time.perf_counter() - started) / epochs

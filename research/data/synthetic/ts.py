"""A synthetic multivariate `.ts` dataset as the UEA/UCR archive ships one, in the format of
`research.data.formats.ts` (`launch/make_data.py ts`)."""

from __future__ import annotations

import pathlib

import numpy as np

from research.data.errors import DataError
from research.data.formats.ts import write_ts

VERSION = 1  # bump when the generated data change, so cached sets are made again


def generate(out_dir, classes: int = 4, train: int = 100, test: int = 100, dims: int = 3,
             min_length: int = 30, max_length: int = 60, missing_rate: float = 0.01,
             seed: int = 0, problem: str = "SyntheticMotions") -> pathlib.Path:
  """Writes `<problem>_TRAIN.ts` and `<problem>_TEST.ts` as the UEA archive ships them.

  Multivariate (`dims`), unequal lengths (uniform in [min_length, max_length]), string
  labels, a few missing values: class c is a set of per-dimension sinusoid frequencies
  and amplitudes, each case with a random phase, speed and noise.
  """
  if not (1 <= classes <= 26 and train >= 1 and test >= 0 and dims >= 1 and 1 <= min_length <= max_length
          and 0.0 <= missing_rate < 1.0) or not str(problem).isidentifier():
    raise DataError(f"ts generator: need 1 <= classes <= 26, train >= 1, test >= 0, dims >= 1, "
                    f"1 <= min_length <= max_length, 0 <= missing_rate < 1 and a plain problem name; got "
                    f"classes={classes}, train={train}, test={test}, dims={dims}, min_length={min_length}, "
                    f"max_length={max_length}, missing_rate={missing_rate}, problem={problem!r}", "bad_option")
  rng = np.random.default_rng(seed)
  names = [f"motion_{chr(ord('a') + c)}" for c in range(classes)]
  freqs = rng.uniform(0.5, 4.0, (classes, dims))
  amps = rng.uniform(0.5, 2.0, (classes, dims))
  out = pathlib.Path(out_dir)
  for split, count in (("TRAIN", train), ("TEST", test)):
    series, labels = [], []
    for i in range(count):
      c = i % classes
      length = int(rng.integers(min_length, max_length + 1))
      t = np.linspace(0, 1, length)[:, None] * rng.uniform(0.85, 1.15)
      x_TD = amps[c] * np.sin(2 * np.pi * freqs[c] * t + rng.uniform(0, 2 * np.pi, dims))
      x_TD += rng.normal(0, 0.3, x_TD.shape)
      x_TD[rng.random(x_TD.shape) < missing_rate] = np.nan
      series.append(x_TD.astype(np.float32))
      labels.append(names[c])
    write_ts(out / f"{problem}_{split}.ts", series, labels, names, problem)
  return out

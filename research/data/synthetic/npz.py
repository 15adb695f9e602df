"""A synthetic labelled-sequence `.npz` in the layout `research.data.formats.npz` reads (`launch/make_data.py npz`)."""

from __future__ import annotations

import pathlib

import numpy as np

from research.data.errors import DataError
from research.data.formats.npz import write_sequences

VERSION = 1  # bump when the generated data change, so cached files are made again


def generate(out_dir, classes: int = 4, examples: int = 120, frames: int = 40, features: int = 6,
             seed: int = 0, name: str = "sequences.npz") -> pathlib.Path:
  """Writes a learnable `.npz` (x (N, T, F) with NaN-padded shorter sequences, y strings).

  Class c drifts along its own random direction in feature space with a class-specific
  oscillation; every sequence has its own length, offset, speed and noise.
  """
  if classes < 1 or examples < 1 or frames < 2 or features < 1 or pathlib.Path(name).name != name:
    raise DataError(f"npz generator: need classes, examples, features >= 1, frames >= 2 and a plain file "
                    f"name; got classes={classes}, examples={examples}, frames={frames}, features={features}, "
                    f"name={name!r}. Change those options", "bad_option")
  rng = np.random.default_rng(seed)
  names = np.array([f"class_{c}" for c in range(classes)])
  direction = rng.normal(size=(classes, features))
  freq = rng.uniform(0.5, 3.0, classes)
  x = np.full((examples, frames, features), np.nan, np.float32)
  y = names[np.arange(examples) % classes]
  for i in range(examples):
    c = i % classes
    length = int(rng.integers(frames // 2, frames + 1))
    t = np.linspace(0, 1, length)[:, None] * rng.uniform(0.8, 1.2)
    x[i, :length] = (t * direction[c] + 0.5 * np.sin(2 * np.pi * freq[c] * t) + rng.normal(0, 0.5, features)
                     + rng.normal(0, 0.2, (length, features)))
  return write_sequences(pathlib.Path(out_dir) / name, x, y)

"""Dataset loaders and synthetic-data generators, by name.

`LOADERS[name](data_config, seed) -> Dataset` for `config.data.name`;
`GENERATORS[name](out_dir, **options)` for `launch/make_data.py NAME`;
`REDRAWS[name](data_config)` for datasets that can redraw their training noise on device.
"""

from __future__ import annotations

from research.data import hht_files
from research.data import keypoints
from research.data import mixture
from research.data import npz
from research.data import semg
from research.data import ts_format
from research.data import workout
from research.data.dataset import Dataset

LOADERS = {
    "hht_files": hht_files.load,
    "keypoints": keypoints.load,
    "npz": npz.load,
    "ts": ts_format.load,
    "semg": semg.load,
    "mixture": mixture.load,
    "workout": workout.load,
}

GENERATORS = {
    "hht": hht_files.generate,
    "keypoints": keypoints.generate,
    "npz": npz.generate,
    "ts": ts_format.generate,
    "semg": semg.generate,
    "workout": workout.generate,
}


REDRAWS = {
    "mixture": mixture.build_redraw,
}


def build_redraw(data_config):
  """`fn(key, batch) -> batch` drawing fresh noise for a training batch, or None."""
  builder = REDRAWS.get(data_config.name)
  return builder(data_config) if builder else None


def load_dataset(config) -> Dataset:
  """The `Dataset` that `config.data` describes, every random choice from `config.seed`."""
  name = config.data.name
  if name not in LOADERS:
    raise ValueError(f"Unknown dataset {name!r} (config.data.name); valid: {sorted(LOADERS)}")
  return LOADERS[name](config.data, config.seed)

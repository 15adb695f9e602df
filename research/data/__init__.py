"""Dataset loaders and synthetic-data generators, by name.

`LOADERS[name](data_config, seed) -> Dataset` for `config.data.name` (splits use
`data_config.split_seed` where the config has one);
`GENERATORS[name](out_dir, **options)` for `launch/make_data.py NAME` (research.data.synthetic);
`REDRAWS[name](data_config)` for datasets that can redraw their training noise on device.
Readers raise `DataError` (a ValueError) for input they cannot use.
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
from research.data.errors import DataError, DataNotFoundError
from research.data.synthetic import hht as synthetic_hht
from research.data.synthetic import keypoints as synthetic_keypoints
from research.data.synthetic import npz as synthetic_npz
from research.data.synthetic import semg as synthetic_semg
from research.data.synthetic import ts as synthetic_ts
from research.data.synthetic import workout as synthetic_workout

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
    "hht": synthetic_hht.generate,
    "keypoints": synthetic_keypoints.generate,
    "npz": synthetic_npz.generate,
    "ts": synthetic_ts.generate,
    "semg": synthetic_semg.generate,
    "workout": synthetic_workout.generate,
}


REDRAWS = {
    "mixture": mixture.build_redraw,
}


def build_redraw(data_config):
  """`fn(key, batch) -> batch` drawing fresh noise for a training batch, or None."""
  builder = REDRAWS.get(data_config.name)
  return builder(data_config) if builder else None


def load_dataset(config) -> Dataset:
  """The `Dataset` that `config.data` describes (splits from `config.data.split_seed`)."""
  name = config.data.name
  if name not in LOADERS:
    raise ValueError(f"Unknown dataset {name!r} (config.data.name); valid: {sorted(LOADERS)}")
  return LOADERS[name](config.data, config.seed)

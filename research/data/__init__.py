"""The data registry: every data name, how it loads, how its default data are made.

`LOADERS[name](data_config, seed) -> Dataset` for `config.data.name` (splits use
`data_config.split_seed` where the config has one); `load_dataset(config)` calls it.
`GENERATORS[name](out_dir, **options)` for `launch/make_data.py NAME` (research.data.synthetic);
with an empty `config.data.path` a loader reads what its generator writes from
`config.data.synthetic` (research.data.sources).
Readers raise `DataError` (a ValueError) for input they cannot use.

Layers, bottom up: errors, layouts, sequences, skipped, dataset, hht (the transform) ->
formats -> synthetic -> sources (with cache_manifest), splits, windows, transforms, hht_inputs -> loaders -> this
registry; inputs (prediction input) beside the loaders; arrays (a stored Dataset, what the estimators
save) and tfds_reader (TensorFlow Datasets) are loaders with their reading; defaults (config groups) on its own.
"""

from __future__ import annotations

from research.data import arrays
from research.data import loaders
from research.data import tfds_reader
from research.data.dataset import Dataset
from research.data.errors import DataError, DataNotFoundError
from research.data.synthetic import hht as synthetic_hht
from research.data.synthetic import keypoints as synthetic_keypoints
from research.data.synthetic import npz as synthetic_npz
from research.data.synthetic import semg as synthetic_semg
from research.data.synthetic import ts as synthetic_ts
from research.data.synthetic import workout as synthetic_workout
from research.data.transforms import build_redraw

LOADERS = {
    "arrays": arrays.load,
    "hht_files": loaders.load_hht_files,
    "keypoints": loaders.load_keypoints,
    "npz": loaders.load_npz,
    "ts": loaders.load_ts,
    "tfds": tfds_reader.load,
    "semg": loaders.load_semg,
    "mixture": loaders.load_mixture,
    "workout": loaders.load_workout,
}

GENERATORS = {
    "hht": synthetic_hht.generate,
    "keypoints": synthetic_keypoints.generate,
    "npz": synthetic_npz.generate,
    "ts": synthetic_ts.generate,
    "semg": synthetic_semg.generate,
    "workout": synthetic_workout.generate,
}

__all__ = ["Dataset", "DataError", "DataNotFoundError", "GENERATORS", "LOADERS", "build_redraw", "load_dataset"]


def load_dataset(config) -> Dataset:
  """The `Dataset` that `config.data` describes (splits from `config.data.split_seed`)."""
  name = config.data.name
  if name not in LOADERS:
    raise ValueError(f"Unknown dataset {name!r} (config.data.name); valid: {sorted(LOADERS)}")
  return LOADERS[name](config.data, config.seed)

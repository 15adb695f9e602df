"""Expensive preparation cached once as a versioned TFDS dataset (array_record).

`cached_splits(name, settings, build, cache_dir)` returns the splits that
`build()` makes, building them into `cache_dir/<name>/<fingerprint>` the first
time and reading them back with `tfds.data_source` (numpy, no TensorFlow) after.
The fingerprint hashes `settings` (every preparation setting plus the
preparation's own version string), so a change in preparation rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Callable

import numpy as np

Split = dict[str, np.ndarray]


def fingerprint(settings: dict) -> str:
  text = json.dumps(settings, sort_keys=True, default=str)
  return hashlib.sha256(text.encode()).hexdigest()[:16]


def _builder_class(name: str, splits: dict[str, Split] | None, example: Split):
  import tensorflow_datasets as tfds  # Imported only where a cache is built or read.

  features = tfds.features.FeaturesDict({
      key: tfds.features.Tensor(shape=value.shape[1:], dtype=value.dtype)
      for key, value in example.items()})

  dataset_name = name

  class CachedArrays(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    name = dataset_name
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(builder=self, features=features, disable_shuffling=True)

    def _split_generators(self, dl_manager):
      del dl_manager
      return {split: self._generate_examples(split) for split in splits}

    def _generate_examples(self, split):
      arrays = splits[split]
      for i in range(len(next(iter(arrays.values())))):
        yield i, {key: value[i] for key, value in arrays.items()}

  return CachedArrays


def _read(builder, split: str, example: Split) -> Split:
  """All records of `split`, stacked with the dtypes and shapes of `example`."""
  source = builder.as_data_source(split=split)
  records = source.__getitems__(list(range(len(source))))
  return {key: np.asarray([r[key] for r in records], value.dtype).reshape((len(records),) + value.shape[1:])
          for key, value in example.items()}


def cached_splits(name: str, settings: dict, build: Callable[[], dict[str, Split]],
                  cache_dir) -> dict[str, Split]:
  """The splits `build()` returns, cached under `cache_dir` by the fingerprint of `settings`."""
  import tensorflow_datasets as tfds

  data_dir = pathlib.Path(cache_dir).expanduser() / name / fingerprint(settings)
  manifest = data_dir / "manifest.json"
  if manifest.exists():
    info = json.loads(manifest.read_text())
    example = {k: np.zeros([1] + shape, dtype) for k, (shape, dtype) in info["features"].items()}
    builder = _builder_class(name, None, example)(data_dir=str(data_dir), file_format="array_record")
    return {split: _read(builder, split, example) for split in info["splits"]}
  splits = build()
  first = next(iter(splits.values()))
  builder = _builder_class(name, splits, first)(data_dir=str(data_dir), file_format="array_record")
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      download_mode=tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS))
  features = {k: [list(v.shape[1:]), v.dtype.str] for k, v in first.items()}
  manifest.write_text(json.dumps({"settings": settings, "features": features, "splits": list(splits)},
                                 default=str, indent=2))
  return splits

"""A `Dataset` stored as it is, splits and all, in one `.npz` (`config.data.name = "arrays"`).

Keys `<split>/<key>` for every split and key (`train/x`, `val/y`, `test/mask`, ...) and `meta`
(the Dataset's meta as JSON). Reading it back gives the same splits, so the same fingerprint:
this is how a run trained on in-memory arrays (research.estimators) names its data, so that
evaluate.py and export.py can read them again from its workdir.
"""

from __future__ import annotations

import io
import json
import pathlib

import numpy as np

from research.data import dataset as dataset_lib
from research.data.errors import DataError, DataNotFoundError
from research.data.formats.npz import read_npz


def to_bytes(dataset: dataset_lib.Dataset) -> bytes:
  """The `.npz` bytes of `dataset` (written by whoever owns the file: a workdir, a cache)."""
  arrays = {f"{name}/{key}": np.asarray(value) for name in dataset_lib.SPLITS
            for key, value in dataset.split(name).items()}
  arrays["meta"] = np.asarray(json.dumps(dataset.meta, sort_keys=True))
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  return buffer.getvalue()


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """The Dataset stored in `config.data.path` (`seed` is unused: the splits are stored)."""
  del seed
  path = pathlib.Path(cfg.get("path") or "")
  if not path.is_file():
    raise DataNotFoundError(f"config.data.path={str(path)!r} is not a file; data.name='arrays' reads the "
                            "dataset.npz that research.estimators writes into a saved workdir")
  arrays = read_npz(path, "write it with research.data.arrays.to_bytes(dataset)")
  if "meta" not in arrays:
    raise DataError(f"{path}: no 'meta' entry; this is not a stored Dataset (research.data.arrays)", "missing_meta")
  splits = {name: {} for name in dataset_lib.SPLITS}
  for key, value in arrays.items():
    name, _, field = key.partition("/")
    if name in splits and field:
      splits[name][field] = value
  missing = [name for name, split in splits.items() if not {"x", "y"} <= set(split)]
  if missing:
    raise DataError(f"{path}: splits {missing} lack 'x' or 'y'; this is not a stored Dataset", "missing_x")
  return dataset_lib.Dataset(**splits, meta=json.loads(str(arrays["meta"])))

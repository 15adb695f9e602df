"""Pinned checksums of tiny synthetic sets, and `Dataset.fingerprint`.

The pins were computed with the code as it was before the generators moved into
research/data/synthetic (commit 6f7d2c8), numpy 2.3.5, on x86-64: the synthetic data must
stay bit-identical for the same settings. Update a pin only for an intended change of a
generator (say so in the commit), or when a new numpy changes its random streams: then run
the parent commit's generator on the same machine and confirm both give the new value.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import pytest

from research import config_file
from research import data as data_lib
from research.data import dataset as dataset_lib

ROOT = pathlib.Path(__file__).resolve().parents[2]

GENERATED = {  # generator options -> SHA-256 of the files written (arrays by key, dtype, shape, bytes)
    "workout": (dict(sessions=2, seed=3, min_reps=2, max_reps=3, sets_per_exercise=1),
                "0dd0d646363a79e82a7e8d54b5910a78c865303b026c082738d3422f5d1069d2"),
    "keypoints": (dict(actions=2, sequences=2, frames=3, seed=1),
                  "376682d408c897dfcf5290f1b9882d806e9b067753b190cdd13f883c8112046d"),
    "semg": (dict(num_classes=2, windows_per_class=3, window=64, channels=2, subjects=2),
             "7e41c0f7b9b9bcd7468f56108e8f680de61c0a48df29f77503a5791c2728481e"),
    "semg_recordings": (dict(layout="recordings", num_classes=2, windows_per_class=3, window=64, subjects=2),
                        "42437a8bcf20957ea47fcaef7b7425b3b8099b0d04b55c43cfc7d08bc01d5ed9"),
    "hht_signal": (dict(n_samples=1, n_test=1, num_samples=300, store="signal", seed=4),
                   "1286b81097eebc3f1b2a2caab25f8d7701a3b7ca5581b1af647d76eddaba7201"),
    "npz": (dict(classes=2, examples=8, frames=6, features=2),
            "c22b1ca8ab95a6441ad84392e2e525f45e30749d268b2bc744f15559cfd7daaf"),
    "ts": (dict(classes=2, train=4, test=2, dims=2, min_length=4, max_length=6),
           "f4246dab487088309bab5c322bd244bcc66f913f3c6c9c94109587ac563bb66f"),
}
LOADED = {  # smoke config -> fingerprint of its loaded splits
    "tcn.py:smoke": "51380f5c79858fc9cf239091136c8c0150c88e0372fc4ac93ef09d451802c5a1",
    "maxcrnn.py:smoke": "c3fc4d729355031b199b4621f666fdc422e80b482564fd3fca2c33a8e8fb83b6",
    "lstm_filter.py:smoke": "91288788e25ba03f4ce646e47a28e0a68939f64c4ce5b370ac28b81df2d9fa17",
}
UPDATE = ("changed synthetic data (pinned with numpy 2.3.5; here numpy {}). Update the pin only for an "
          "intended generator change, see this file's docstring")


def tree_digest(root: pathlib.Path) -> str:
  """SHA-256 over the files under `root`: names, then arrays (key, dtype, shape, bytes) or bytes."""
  digest = hashlib.sha256()
  for path in sorted(root.rglob("*")):
    if not path.is_file():
      continue
    digest.update(path.relative_to(root).as_posix().encode() + b"\0")
    if path.suffix in (".npz", ".npy"):
      if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as loaded:
          arrays = {k: loaded[k] for k in loaded.files}
      else:
        arrays = {"": np.load(path, allow_pickle=False)}
      for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{array.dtype.str}:{array.shape};".encode() + array.tobytes())
    elif path.name == "synthetic.json":  # the generator's module path is not data
      info = json.loads(path.read_text())
      info.pop("generator")
      digest.update(json.dumps(info, sort_keys=True).encode())
    else:
      digest.update(path.read_bytes())
  return digest.hexdigest()


@pytest.mark.parametrize("key", sorted(GENERATED))
def test_generators_write_the_pinned_data(key, tmp_path):
  options, pinned = GENERATED[key]
  data_lib.GENERATORS[key.split("_")[0]](str(tmp_path / key), **options)
  assert tree_digest(tmp_path / key) == pinned, UPDATE.format(np.__version__)


@pytest.mark.parametrize("spec", sorted(LOADED))
def test_smoke_configs_load_the_pinned_splits(spec, tmp_path):
  config = config_file.load(ROOT / "configs" / spec)
  if "cache_dir" in config.data:
    config.data.cache_dir = str(tmp_path / "cache")
  dataset = data_lib.load_dataset(config)
  assert dataset.fingerprint() == LOADED[spec], UPDATE.format(np.__version__)


def _dataset(rng_seed=0):
  rng = np.random.default_rng(rng_seed)
  split = lambda n: {"x": rng.normal(size=(n, 4, 2)).astype(np.float32), "y": rng.integers(0, 3, n).astype(np.int32),
                     "mask": rng.random((n, 4)) < 0.8}
  return dataset_lib.Dataset(train=split(10), val=split(3), test=split(4), meta={"source": "here"})


def test_fingerprint_by_hand_and_sensitivity():
  dataset = _dataset()
  digest = hashlib.sha256()
  for name in ("train", "val", "test"):
    for key in ("mask", "x", "y"):
      array = getattr(dataset, name)[key]
      digest.update(f"{name}/{key}:{array.dtype.str}:{array.shape};".encode() + array.tobytes())
  assert dataset.fingerprint() == digest.hexdigest()
  assert _dataset().fingerprint() == dataset.fingerprint()  # same data, another object
  changed = _dataset()
  changed.val["x"][1, 2, 0] += 1e-6  # one value
  assert changed.fingerprint() != dataset.fingerprint()
  reordered = dataset_lib.Dataset(train=dict(reversed(list(dataset.train.items()))), val=dataset.val,
                                  test=dataset.test, meta={"source": "elsewhere"})
  assert reordered.fingerprint() == dataset.fingerprint()  # key order and meta do not count
  retyped = _dataset()
  retyped.train["y"] = retyped.train["y"].astype(np.int64)
  assert retyped.fingerprint() != dataset.fingerprint()  # same values, other dtype
  moved = _dataset()
  moved.val, moved.test = {k: v[:2] for k, v in dataset.val.items()}, dataset.test
  assert moved.fingerprint() != dataset.fingerprint()


def test_fingerprint_stable_across_loads_and_sees_a_changed_file(tmp_path):
  path = data_lib.GENERATORS["npz"](str(tmp_path), classes=2, examples=20, frames=5, features=2)
  config = config_file.load(ROOT / "configs" / "sign_lstm.py")
  config.data.update({"name": "npz", "path": str(path), "cache_dir": ""})
  first = data_lib.load_dataset(config).fingerprint()
  assert data_lib.load_dataset(config).fingerprint() == first
  with np.load(path) as f:
    arrays = {k: f[k] for k in f.files}
  arrays["x"][7, 0, 1] += 0.5
  np.savez(path, **arrays)
  assert data_lib.load_dataset(config).fingerprint() != first

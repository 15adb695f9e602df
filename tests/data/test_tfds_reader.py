"""config.data.name = "tfds": a TFDS dataset built here from arrays (array_record, no download)."""

import os
import pathlib
import subprocess
import sys
import textwrap

import ml_collections
import numpy as np
import pytest

import tensorflow_datasets as tfds

from research.data import DataError, load_dataset
from research.data import tfds_reader

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAME = "small_series"


def _examples(count=30, seed=0):
  rng = np.random.default_rng(seed)
  rows = []
  for i in range(count):
    n = int(rng.integers(20, 31))
    rows.append({"signal": rng.normal(i % 3, 1.0, (n, 2)).astype(np.float32), "label": i % 3,
                 "valid": np.arange(n) < n - 2, "image": np.zeros((n, 2, 2), np.float32),
                 # per-step scalars, as smartwatch_gestures stores its accelerometer
                 "steps": {"accel_x": rng.normal(size=n), "accel_y": rng.normal(size=n),
                           "time_millis": np.arange(n, dtype=np.uint64)}})
  return rows


def build(data_dir, rows) -> str:
  """Prepares `rows` as the TFDS dataset NAME (train: the first 20, test: the rest) in array_record."""

  class SmallSeries(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(builder=self, disable_shuffling=True, supervised_keys=("signal", "label"),
                                   features=tfds.features.FeaturesDict({
                                       "signal": tfds.features.Tensor(shape=(None, 2), dtype=np.float32),
                                       "label": tfds.features.ClassLabel(names=["low", "mid", "high"]),
                                       "valid": tfds.features.Tensor(shape=(None,), dtype=np.bool_),
                                       "image": tfds.features.Tensor(shape=(None, 2, 2), dtype=np.float32),
                                       "steps": tfds.features.Sequence({"accel_x": np.float64, "accel_y": np.float64,
                                                                        "time_millis": np.uint64})}))

    def _split_generators(self, dl_manager):
      return {"train": self._generate_examples(rows[:20]), "test": self._generate_examples(rows[20:])}

    def _generate_examples(self, part):
      yield from enumerate(part)

  builder = SmallSeries(data_dir=str(data_dir), file_format="array_record")
  builder.download_and_prepare()
  assert builder.name == NAME
  return builder.name


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
  data_dir = tmp_path_factory.mktemp("tfds")
  rows = _examples()
  build(data_dir, rows)
  return data_dir, rows


def _config(data_dir, **fields):
  config = ml_collections.ConfigDict({"seed": 0})
  config.data = tfds_reader.data_config(**{"path": NAME, "data_dir": str(data_dir), **fields})
  return config


def test_reads_the_splits_into_a_padded_masked_dataset(prepared):
  data_dir, rows = prepared
  dataset = load_dataset(_config(data_dir, mask_key="valid", val_fraction=0.0))
  assert dataset.sizes() == {"train": 20, "val": 0, "test": 10}
  assert dataset.meta["class_names"] == ["low", "mid", "high"]
  for split, part in ((dataset.train, rows[:20]), (dataset.test, rows[20:])):
    assert split["x"].shape[1] == max(int(r["valid"].sum()) for r in rows)  # one length for every split
    for x, mask, y, row in zip(split["x"], split["mask"], split["y"], part):
      kept = row["signal"][row["valid"]]  # frames the mask marks invalid are dropped
      np.testing.assert_array_equal(x[:len(kept)], kept)
      assert mask.sum() == len(kept) and not x[len(kept):].any()
      assert y == row["label"]


def test_validation_fraction_and_normalisation_follow_the_config(prepared):
  data_dir, _ = prepared
  dataset = load_dataset(_config(data_dir, val_fraction=0.25, normalize="zscore"))
  assert dataset.sizes() == {"train": 15, "val": 5, "test": 10}
  valid = dataset.train["x"][dataset.train["mask"]]
  np.testing.assert_allclose(valid.mean(0), 0.0, atol=1e-5)
  np.testing.assert_allclose(valid.std(0), 1.0, atol=1e-4)


def test_a_sequence_of_per_step_scalars_stacks_its_float_channels(prepared):
  data_dir, rows = prepared
  dataset = load_dataset(_config(data_dir, series_key="steps", val_fraction=0.0))
  first = rows[0]["steps"]
  n = len(first["accel_x"])
  np.testing.assert_allclose(dataset.train["x"][0, :n], np.stack([first["accel_x"], first["accel_y"]], 1), rtol=1e-6)
  chosen = load_dataset(_config(data_dir, series_key="steps", channels=("accel_y",), val_fraction=0.0))
  np.testing.assert_allclose(chosen.train["x"][0, :n, 0], first["accel_y"], rtol=1e-6)
  with pytest.raises(DataError, match=r"channels=\('gyro',\) must name entries of the sequence 'steps'"):
    load_dataset(_config(data_dir, series_key="steps", channels=("gyro",)))


@pytest.mark.parametrize("fields, message", [
    ({"path": "no_such_series"}, "no TFDS dataset of that name"),
    ({"series_key": "signals"}, r"series_key='signals' is not a feature of the dataset; its features are "
                                r"\['image', 'label', 'signal', 'steps', 'valid'\]"),
    ({"label_key": "class"}, "label_key='class' is not a feature"),
    ({"series_key": "image"}, r"feature 'image' has shape \(\d+, 2, 2\); a series must be"),
    ({"mask_key": "label"}, r"mask 'label' has shape \(\), the series 'signal' \d+ frames; the mask needs one value per frame"),
    ({"test_split": "holdout"}, r"test_split='holdout' is not a split of the dataset; its splits are \['test', 'train'\]"),
    ({"path": ""}, "config.data.path is empty"),
])
def test_bad_input_names_the_key_and_the_fix(prepared, fields, message):
  data_dir, _ = prepared
  with pytest.raises(DataError, match=message):
    load_dataset(_config(data_dir, **fields))


def test_a_catalogue_dataset_that_is_not_prepared_says_how_to_prepare_it(tmp_path):
  with pytest.raises(DataError, match="tfds build smartwatch_gestures --file_format=array_record --data_dir"):
    load_dataset(_config(tmp_path, path="smartwatch_gestures"))


@pytest.mark.slow
def test_any_config_trains_on_it_without_tensorflow(prepared, tmp_path):
  """minirocket:smoke with only data.name and data.path changed (the other fields take their defaults,
  the folder comes from $TFDS_DATA_DIR), trained through research.train.fit; TensorFlow never loads."""
  data_dir, _ = prepared
  script = textwrap.dedent(f"""
      import sys
      from research import config_file
      from research.data import load_dataset
      from research.train import fit
      config = config_file.load("configs/minirocket.py:smoke")
      config.data.name, config.data.path = "tfds", "{NAME}"
      report = fit(config, load_dataset(config), "{tmp_path / 'run'}")
      assert report["num_examples"] == 10, report
      assert "tensorflow" not in sys.modules, "training imported TensorFlow"
      print("accuracy", report["accuracy"])
  """)
  env = {**os.environ, "PYTHONPATH": str(ROOT), "TFDS_DATA_DIR": str(data_dir)}
  done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  assert "accuracy" in done.stdout

"""HHT images, the file-name conventions and the loader of the CNN-SVM system."""

from __future__ import annotations

import numpy as np
import pytest

from research.data import hht
from research.data import hht_inputs
from research.data import layouts
from research.data import loaders
from research.data.formats import hht_files
from research.data.synthetic import hht as synthetic_hht

FS = 1000.0


# --- File names -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, muscle, class_name, label, number", [
    ("BICEPS_fatiguetest_M_006.npz", "BICEPS", "M_full", 0, 6),  # the seed's examples
    ("TRICEPS_half_F_012.npz", "TRICEPS", "F_half", 4, 12),
    ("FOREARM_invalid_M_003.npz", "FOREARM", "M_invalid", 2, 3),
    ("DELTOID_half_M_100.npz", "DELTOID", "M_half", 1, 100),  # the rest of the table
    ("BICEPS_fatiguetest_F_001.npz", "BICEPS", "F_full", 3, 1),
    ("BICEPS_invalid_F_002.npz", "BICEPS", "F_invalid", 5, 2),
    ("biceps_Half_f_7.npz", "biceps", "F_half", 4, 7),  # case-insensitive words, any digit count
    ("BICEPS_LONG_HEAD_invalid_F_010.npz", "BICEPS_LONG_HEAD", "F_invalid", 5, 10),  # '_' in muscle
])
def test_parse_name_documented_cases(name, muscle, class_name, label, number):
  parsed = hht_files.parse_name(name)
  assert (parsed.muscle, parsed.class_name, parsed.label, parsed.number) == (muscle, class_name, label, number)
  assert layouts.HHT_CLASSES[parsed.label] == class_name
  assert not hht_files.is_test_file(name)


def test_class_table_is_the_seeds():
  assert layouts.HHT_CLASSES == ("M_full", "M_half", "M_invalid", "F_full", "F_half", "F_invalid")


@pytest.mark.parametrize("name, reason", [
    ("BICEPS_walk_M_001.npz", "movement"),
    ("BICEPS_half_X_001.npz", "gender"),
    ("BICEPS_half_M_01a.npz", "digits"),
    ("BICEPS_half_M.npz", "MUSCLE_movement_GENDER_###"),
    ("notes.npz", "MUSCLE_movement_GENDER_###"),
    ("_half_M_001.npz", "MUSCLE_movement_GENDER_###"),
    ("BICEPS_half_M_001.npy", ".npz"),
])
def test_parse_name_rejects(name, reason):
  with pytest.raises(ValueError, match=reason):
    hht_files.parse_name(name)


@pytest.mark.parametrize("name, held_out", [
    ("BICEPS_test_001.npz", True),
    ("DELTOID_test_042.npz", True),
    ("BICEPS_TEST_M_001.npz", True),
    ("mytest_half_M_001.npz", True),
    ("BICEPS_fatiguetest_M_001.npz", False),
    ("BICEPS_fatiguetest_M_001_test.npz", True),
])
def test_test_files(name, held_out):
  assert hht_files.is_test_file(name) == held_out


def _write(folder, name, **arrays):
  np.savez(folder / name, **arrays)


def test_scan_sorts_files_into_training_test_skipped(tmp_path):
  image = np.ones((8, 8), np.float32)
  for name in ["BICEPS_half_M_002.npz", "BICEPS_half_F_001.npz", "BICEPS_test_001.npz",
               "BICEPS_walk_M_003.npz", "readme_M.npz"]:
    _write(tmp_path, name, hht=image)
  (tmp_path / "notes.txt").write_text("not data")
  labelled, held_out, skipped = hht_files.scan(tmp_path)
  assert [(p.name, lab.label) for p, lab in labelled] == [("BICEPS_half_F_001.npz", 4),
                                                           ("BICEPS_half_M_002.npz", 1)]
  assert [p.name for p in held_out] == ["BICEPS_test_001.npz"]
  assert [(s["item"], s["reason"]) for s in skipped] == [("BICEPS_walk_M_003.npz", "unparsed_name"),
                                                         ("readme_M.npz", "unparsed_name")]
  assert "movement 'walk'" in skipped[0]["detail"]


def test_the_seeds_two_errors(tmp_path):
  cfg = _data_config(tmp_path, image_size=8)
  with pytest.raises(FileNotFoundError, match=hht_files.NO_FILES):
    loaders.load_hht_files(cfg, seed=0)
  _write(tmp_path, "BICEPS_test_001.npz", hht=np.ones((8, 8), np.float32))
  _write(tmp_path, "BICEPS_walk_M_001.npz", hht=np.ones((8, 8), np.float32))
  with pytest.raises(ValueError, match=hht_files.NO_TRAINING_FILES):
    loaders.load_hht_files(cfg, seed=0)


# --- The transform ---------------------------------------------------------------------------

def test_two_tones_land_in_their_frequency_bins():
  """Tones at 45 and 205 Hz with 10 Hz bins: bins 4 and 20 hold nearly all amplitude."""
  t = np.arange(2048) / FS
  signal = 1.0 * np.sin(2 * np.pi * 45 * t) + 0.5 * np.sin(2 * np.pi * 205 * t)
  settings = hht.HHTSettings(time_bins=64, freq_bins=50)  # 0-500 Hz, 10 Hz per bin
  image = hht.hht_image(signal, FS, settings)
  assert image.shape == (64, 50)
  middle = image[8:-8]  # EMD end effects aside
  per_bin = middle.sum(0) / middle.sum()
  low, high = per_bin[3:6].sum(), per_bin[19:22].sum()  # each tone's bin +- 1
  assert low + high > 0.97, np.round(per_bin, 3)
  # Shares follow the amplitudes 1 : 0.5; the bins in between stay empty.
  np.testing.assert_allclose([low, high], [2 / 3, 1 / 3], atol=0.04)
  assert per_bin.argmax() == 4 and per_bin[6:19].sum() < 0.01
  # Mean amplitude per time bin: the two tones' amplitudes add up.
  assert abs(np.median(middle.sum(1)) - 1.5) < 0.05


def test_chirp_follows_its_instantaneous_frequency():
  """A linear chirp 50 -> 150 Hz: each time bin's peak is the bin of f(t) = 50 + 100 t / T."""
  n, time_bins = 2048, 64
  t = np.arange(n) / FS
  duration = n / FS
  signal = np.sin(2 * np.pi * (50 * t + 50 * t ** 2 / duration))
  settings = hht.HHTSettings(time_bins=time_bins, freq_bins=50, freq_min=0.0, freq_max=500.0)
  image = hht.hht_image(signal, FS, settings)
  centre_t = (np.arange(time_bins) + 0.5) * duration / time_bins
  expected = np.floor((50 + 100 * centre_t / duration) / 10).astype(int)
  found = image.argmax(1)
  assert np.all(np.abs(found - expected)[4:-4] <= 1), (found, expected)


def test_frequency_range_is_configurable():
  """With 100-300 Hz in 20 bins a 45 Hz tone is dropped and a 205 Hz one lands in bin 10 (+-1)."""
  t = np.arange(2048) / FS
  signal = np.sin(2 * np.pi * 45 * t) + np.sin(2 * np.pi * 205 * t)
  settings = hht.HHTSettings(time_bins=32, freq_bins=20, freq_min=100.0, freq_max=300.0)
  edges = settings.bin_edges(FS)
  assert edges[0] == 100.0 and edges[-1] == 300.0
  per_bin = hht.hht_image(signal, FS, settings)[4:-4].sum(0)
  assert per_bin[9:12].sum() / per_bin.sum() > 0.97, np.round(per_bin, 2)  # bin 10 +- 1
  np.testing.assert_allclose(per_bin.sum() / 24, 1.0, rtol=0.1)  # only the 205 Hz tone remains


def test_too_short_signal_is_an_error():
  with pytest.raises(ValueError, match="time bins"):
    hht.hht_image(np.sin(np.arange(30.0)), FS, hht.HHTSettings(time_bins=64, freq_bins=8))


def test_cache_reuses_and_invalidates(tmp_path, monkeypatch):
  rng = np.random.default_rng(0)
  path = tmp_path / "BICEPS_half_M_001.npz"
  np.savez(path, signal=rng.normal(size=512), fs=FS)
  settings = hht.HHTSettings(time_bins=16, freq_bins=16)
  cache = tmp_path / "cache"
  first = hht_inputs.cached_hht_image(path, np.load(path)["signal"], FS, settings, str(cache))
  assert len(list(cache.rglob("*.npz"))) == 1
  calls = []
  monkeypatch.setattr(hht, "hht_image", lambda *a: calls.append(1) or np.zeros((16, 16), np.float32))
  np.testing.assert_array_equal(hht_inputs.cached_hht_image(path, None, FS, settings, str(cache)), first)
  assert not calls  # read back, not recomputed
  hht_inputs.cached_hht_image(path, None, FS, hht.HHTSettings(time_bins=16, freq_bins=8), str(cache))
  np.savez(path, signal=rng.normal(size=512), fs=FS)  # new contents
  hht_inputs.cached_hht_image(path, None, FS, settings, str(cache))
  assert len(calls) == 2


# --- The loader ------------------------------------------------------------------------------

def _data_config(folder, image_size=16, **overrides):
  import ml_collections
  cfg = ml_collections.ConfigDict(dict(
      name="hht_files", path=str(folder), image_size=image_size, freq_min=0.0, freq_max=0.0,
      max_imf=-1, sampling_rate=FS, cache_dir="", val_fraction=0.2, log_scale=True))
  cfg.update(overrides)
  return cfg


def test_loader_reads_signals_and_images_and_splits(tmp_path):
  rng = np.random.default_rng(1)
  signal = rng.normal(size=256)
  _write(tmp_path, "BICEPS_half_M_000.npz", signal=signal, fs=FS)
  for i in range(1, 30):
    _write(tmp_path, f"BICEPS_{['fatiguetest', 'half', 'invalid'][i % 3]}_{'MF'[i % 2]}_{i:03d}.npz",
           hht=rng.uniform(size=(16, 16)).astype(np.float32))
  _write(tmp_path, "BICEPS_test_001.npz", hht=np.ones((16, 16), np.float32))
  _write(tmp_path, "BICEPS_bad_M_001.npz", hht=np.ones((16, 16), np.float32))
  data = loaders.load_hht_files(_data_config(tmp_path), seed=0)
  assert data.sizes() == {"train": 24, "val": 6, "test": 1}
  assert data.train["x"].shape == (24, 16, 16, 1) and data.train["x"].dtype == np.float32
  assert data.meta["skipped"][0]["item"] == "BICEPS_bad_M_001.npz"
  assert data.meta["test_files"] == ["BICEPS_test_001.npz"] and data.test["y"].tolist() == [-1]
  assert sorted(data.train["file_index"].tolist() + data.val["file_index"].tolist()) == list(range(30))
  # The signal file went through the HHT: compare with the transform itself, then the input scaling.
  index = data.meta["files"].index("BICEPS_half_M_000.npz")
  where = "train" if index in data.train["file_index"] else "val"
  row = data.split(where)["x"][list(data.split(where)["file_index"]).index(index), ..., 0]
  image = hht.hht_image(signal, FS, hht.HHTSettings(time_bins=16, freq_bins=16))
  np.testing.assert_allclose(row, np.log1p(image / image.mean()), rtol=1e-5)


def test_loader_refuses_wrong_image_size(tmp_path):
  _write(tmp_path, "BICEPS_half_M_001.npz", hht=np.ones((8, 8), np.float32))
  with pytest.raises(ValueError, match="image_size"):
    loaders.load_hht_files(_data_config(tmp_path, image_size=16), seed=0)


def test_generator_writes_named_files_through_the_hht(tmp_path):
  synthetic_hht.generate(str(tmp_path), n_samples=2, n_test=2, image_size=16, num_samples=256)
  labelled, held_out, skipped = hht_files.scan(tmp_path)
  assert len(labelled) == 12 and len(held_out) == 2 and not skipped
  assert sorted({lab.label for _, lab in labelled}) == list(range(6))
  image = np.load(labelled[0][0])["hht"]
  assert image.shape == (16, 16) and image.min() >= 0 and image.sum() > 0

"""Readers: MediaPipe folders (skips, groups), UEA/UCR .ts, npz, padding/missing values, splits."""

from __future__ import annotations

import collections
import pathlib

import ml_collections
import numpy as np
import pytest
from sklearn import model_selection

from research import data as data_lib
from research.data import layouts
from research.data import loaders
from research.data import sequences as seq_lib
from research.data import splits
from research.data.formats import keypoints
from research.data.formats import ts as ts_format

F = layouts.NUM_KEYPOINT_FEATURES


def _write_sequence(folder: pathlib.Path, frames: int, value: float = 0.5, shape=(F,)):
  folder.mkdir(parents=True, exist_ok=True)
  for t in range(frames):
    np.save(folder / f"{t}.npy", np.full(shape, value + t, np.float64))  # MediaPipe saves float64


def _data_config(**fields):
  cfg = ml_collections.ConfigDict({"path": "", "test_path": "", "actions": (), "frames": 4,
                                   "keypoint_groups": (), "test_fraction": 0.1, "val_fraction": 0.15,
                                   "split_seed": 42, "normalize": "none"})
  cfg.update(fields)
  return cfg


# ---- MediaPipe folders ---------------------------------------------------------------------------

def test_layout_is_1662_in_mediapipe_order():
  slices = layouts.keypoint_slices()
  assert F == 1662
  assert (slices["pose"], slices["face"]) == (slice(0, 132), slice(132, 1536))
  assert (slices["left_hand"], slices["right_hand"]) == (slice(1536, 1599), slice(1599, 1662))


def test_reader_skips_and_counts_bad_sequences(tmp_path):
  _write_sequence(tmp_path / "Hello" / "0", 4)
  _write_sequence(tmp_path / "Hello" / "1", 4)
  _write_sequence(tmp_path / "Hello" / "2", 3)  # frame 3 missing
  _write_sequence(tmp_path / "Hello" / "3", 4, shape=(1600,))  # wrong shape
  _write_sequence(tmp_path / "Hello" / "4", 4)
  (tmp_path / "Hello" / "4" / "2.npy").write_bytes(b"not a numpy file")  # unreadable
  _write_sequence(tmp_path / "Hello" / "5", 4, value=np.nan)  # NaN values
  _write_sequence(tmp_path / "Yes" / "0", 4, value=2.0)
  _write_sequence(tmp_path / "Yes" / "10", 5, value=3.0)  # an extra frame is ignored
  (tmp_path / "Yes" / "notes.txt").write_text("a stray file is not a sequence")
  seqs, y, names, skipped = keypoints.read_folder(tmp_path, ["Hello", "Yes"], frames=4)
  assert names == ["Hello", "Yes"]
  np.testing.assert_array_equal(y, [0, 0, 1, 1])
  assert all(s.shape == (4, F) and s.dtype == np.float32 for s in seqs)
  np.testing.assert_allclose(seqs[3][:, 0], [3.0, 4.0, 5.0, 6.0])  # "10" sorted after "0"
  assert sorted((s["item"], s["reason"], s["class"]) for s in skipped) == [
      ("Hello/2", "missing_frames", "Hello"), ("Hello/3", "wrong_shape", "Hello"),
      ("Hello/4", "unreadable", "Hello"), ("Hello/5", "non_finite", "Hello")]
  assert "3.npy" in next(s["detail"] for s in skipped if s["item"] == "Hello/2")


def test_reader_errors_name_the_empty_or_missing_action(tmp_path):
  _write_sequence(tmp_path / "Hello" / "0", 4)
  _write_sequence(tmp_path / "Help" / "0", 2)  # its only sequence is incomplete
  with pytest.raises(ValueError, match=r"'Help' has no usable sequence.*missing_frames.*'Stop' has no folder"):
    keypoints.read_folder(tmp_path, ["Hello", "Help", "Stop"], frames=4)


def test_reader_actions_from_folders_and_variable_length(tmp_path):
  _write_sequence(tmp_path / "b" / "0", 3)
  _write_sequence(tmp_path / "a" / "0", 5)
  _write_sequence(tmp_path / "a" / "1", 2)
  gap = tmp_path / "a" / "2"
  _write_sequence(gap, 3)
  (gap / "1.npy").unlink()  # 0, 2: a gap
  seqs, y, names, skipped = keypoints.read_folder(tmp_path, None, frames=0)
  assert names == ["a", "b"]
  assert [len(s) for s in seqs] == [5, 2, 3]
  assert [(s["item"], s["reason"], s["class"]) for s in skipped] == [("a/2", "missing_frames", "a")]
  x, mask = seq_lib.pad(seqs)
  assert x.shape == (3, 5, F)
  np.testing.assert_array_equal(mask.sum(1), [5, 2, 3])
  assert np.all(x[1, 2:] == 0)


def test_group_selection_keeps_mediapipe_order():
  index, layout = layouts.select_keypoint_groups(["right_hand", "pose", "left_hand"])
  expected = np.r_[0:132, 1536:1662]
  np.testing.assert_array_equal(index, expected)
  assert layout["num_features"] == 258
  assert [g["name"] for g in layout["groups"]] == ["pose", "left_hand", "right_hand"]
  with pytest.raises(ValueError, match="unknown groups"):
    layouts.select_keypoint_groups(["hands"])


def test_generator_and_loader(tmp_path):
  data_lib.GENERATORS["keypoints"](tmp_path, actions=3, sequences=10, frames=6, seed=1)
  assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["Hello", "Help", "Thank_You"]
  frame = np.load(tmp_path / "Help" / "9" / "5.npy")
  assert frame.shape == (F,)
  assert np.all(frame[layouts.keypoint_slices()["face"]] > -0.5)
  cfg = _data_config(name="keypoints", path=str(tmp_path), actions=("Hello", "Thank_You", "Help"),
                     frames=6, keypoint_groups=("pose", "left_hand", "right_hand"))
  ds = data_lib.LOADERS["keypoints"](cfg, 0)
  assert ds.sizes() == {"train": 22, "val": 5, "test": 3}  # sklearn rounds held-out sizes up
  assert ds.train["x"].shape[1:] == (6, 258) and ds.train["mask"].all()
  assert ds.meta["class_names"] == ["Hello", "Thank_You", "Help"]
  assert ds.meta["skipped"] == []


# ---- .ts -----------------------------------------------------------------------------------------

TS_TRAIN = """# A comment line
@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true walk run
@data
1,2,3,4:10,20,30,40:run
1,?,3:4,5,6:walk
5,6:7,8:run
1,2,3,?,?:1,2,3,?,?:walk
"""

TS_TEST = """@problemName Toy
@univariate false
@dimensions 2
@classLabel true walk run
@data
9,9,9:8,8,8:walk
7,7,7,7,7,7:6,6,6,6,6,6:run
"""


def test_ts_parsing_unequal_lengths_missing_values_string_labels(tmp_path):
  path = tmp_path / "Toy_TRAIN.ts"
  path.write_text(TS_TRAIN)
  series, labels, header = ts_format.read_ts(path)
  assert labels == ["run", "walk", "run", "walk"]
  assert header["class_names"] == ["walk", "run"]
  assert [s.shape for s in series] == [(4, 2), (3, 2), (2, 2), (5, 2)]
  assert np.isnan(series[1][1, 0]) and series[1][1, 1] == 5
  cleaned, counts = seq_lib.clean(series, "x")
  np.testing.assert_allclose(cleaned[1][:, 0], [1, 2, 3])  # interpolated
  assert cleaned[3].shape == (3, 2)  # trailing all-missing frames become padding
  assert counts == {"trailing_missing_frames": 2, "interpolated_values": 1}


def test_ts_loader_uses_the_test_file_beside_train(tmp_path):
  (tmp_path / "Toy_TRAIN.ts").write_text(TS_TRAIN * 1 + "\n".join(TS_TRAIN.splitlines()[-4:]) + "\n")
  (tmp_path / "Toy_TEST.ts").write_text(TS_TEST)
  cfg = _data_config(name="ts", path=str(tmp_path / "Toy_TRAIN.ts"), val_fraction=0.25)
  ds = data_lib.LOADERS["ts"](cfg, 0)
  assert ds.meta["class_names"] == ["walk", "run"]  # header order, not alphabetical
  assert ds.sizes() == {"train": 6, "val": 2, "test": 2}
  assert ds.test["x"].shape == (2, 6, 2)  # padded to the longest series of either file
  np.testing.assert_array_equal(ds.test["y"], [0, 1])
  np.testing.assert_array_equal(ds.test["mask"].sum(1), [3, 6])
  assert ds.meta["test_split"] == "predefined by the dataset"


def test_ts_errors(tmp_path):
  bad = tmp_path / "bad.ts"
  bad.write_text("@classLabel true a b\n@data\n1,2,x:a\n")
  with pytest.raises(ValueError, match=r"bad.ts:3: dimension 1"):
    ts_format.read_ts(bad)
  bad.write_text("@classLabel true a b\n@data\n1,2:c\n1,2:a\n")
  with pytest.raises(ValueError, match=r"labels \['c'\] are not among"):
    data_lib.LOADERS["ts"](_data_config(path=str(bad)), 0)


# ---- npz -----------------------------------------------------------------------------------------

def test_npz_string_labels_and_predefined_test(tmp_path):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(20, 7, 3)).astype(np.float32)
  x[0, 5:] = np.nan  # a shorter sequence written with NaN padding
  y = np.array(["up", "down"] * 10)
  path = tmp_path / "d.npz"
  np.savez(path, x=x, y=y, x_test=x[:4], y_test=y[:4])
  ds = data_lib.LOADERS["npz"](_data_config(path=str(path), val_fraction=0.2), 0)
  assert ds.meta["class_names"] == ["down", "up"]
  assert ds.sizes() == {"train": 16, "val": 4, "test": 4}
  np.testing.assert_array_equal(ds.test["y"], [1, 0, 1, 0])
  assert ds.test["mask"][0].sum() == 5 and ds.test["mask"][1:].all()


def test_npz_int_labels_with_names_and_errors(tmp_path):
  path = tmp_path / "d.npz"
  np.savez(path, x=np.zeros((30, 4)), y=np.arange(30) % 3, class_names=np.array(["a", "b", "c"]))
  ds = loaders.load_npz(_data_config(path=str(path)), 0)
  assert ds.train["x"].shape[1:] == (4, 1) and ds.meta["class_names"] == ["a", "b", "c"]
  assert ds.sizes()["test"] == 3 and sorted(ds.test["y"]) == [0, 1, 2]
  np.savez(path, x=np.zeros((30, 4)), labels=np.zeros(30))
  with pytest.raises(ValueError, match="missing key 'y'"):
    loaders.load_npz(_data_config(path=str(path)), 0)


# ---- helpers -------------------------------------------------------------------------------------

def test_fill_missing_by_hand():
  x = np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, 5.0], [4.0, np.nan], [np.nan, np.nan]])
  filled, cut, count = seq_lib.fill_missing(x)
  np.testing.assert_allclose(filled, [[2, 1], [2, 3], [3, 5], [4, 5]])
  assert (cut, count) == (1, 4)


def test_encode_labels():
  y, names = seq_lib.encode_labels(np.array([5, 2, 5, 9]))
  np.testing.assert_array_equal(y, [1, 0, 1, 2])
  assert names == ["2", "5", "9"]
  with pytest.raises(ValueError, match="non-integer"):
    seq_lib.encode_labels(np.array([0.5, 1.0]))


def test_stratified_splits_match_sklearn():
  y = np.repeat(np.arange(10), 30)
  examples = {"x": np.arange(300, dtype=np.float32)[:, None, None], "y": y.astype(np.int32),
              "mask": np.ones((300, 1), bool)}
  ds = splits.classification_splits(examples, {"class_names": [str(i) for i in range(10)]}, test=None,
                                     test_fraction=0.1, val_fraction=0.15, seed=42)
  assert ds.sizes() == {"train": 229, "val": 41, "test": 30}
  assert collections.Counter(ds.test["y"].tolist()) == {c: 3 for c in range(10)}
  # The same test examples as the seed's train_test_split(test_size=0.1, random_state=42, stratify=y).
  _, ref_test = model_selection.train_test_split(np.arange(300), test_size=0.1, random_state=42, stratify=y)
  np.testing.assert_array_equal(ds.test["x"][:, 0, 0], np.sort(ref_test))
  with pytest.raises(ValueError, match="at least 2 examples per class"):
    splits.classification_splits({"x": np.zeros((5, 1, 1)), "y": np.array([0, 0, 1, 1, 2]),
                                   "mask": np.ones((5, 1), bool)}, {"class_names": ["a", "b", "c"]},
                                  test=None, test_fraction=0.5, val_fraction=0.15, seed=0)


def test_standardize_uses_training_frames_only():
  x = np.zeros((30, 3, 2), np.float32)
  x[:, :, 0] = np.arange(30)[:, None]
  x[:, :, 1] = 7.0
  mask = np.ones((30, 3), bool)
  mask[:, 2] = False
  x[:, 2] = 1000.0  # padding values must not enter the statistics
  examples = {"x": x, "y": (np.arange(30) % 2).astype(np.int32), "mask": mask}
  ds = splits.classification_splits(examples, {"class_names": ["a", "b"]}, test=None, test_fraction=0.2,
                                     val_fraction=0.25, seed=0, normalize="zscore")
  assert np.allclose(ds.train["x"][:, :2, 0].mean(), 0, atol=1e-5)
  assert np.allclose(ds.train["x"][:, :2, 0].std(), 1, atol=1e-4)
  assert np.all(ds.train["x"][:, 2] == 0) and np.all(ds.test["x"][:, 2] == 0)
  assert ds.meta["standardize"]["std"][1] == pytest.approx(1e-6)  # constant feature: floored std
  centred = splits.classification_splits(examples, {"class_names": ["a", "b"]}, test=None, test_fraction=0.2,
                                          val_fraction=0.25, seed=0, normalize="center")
  np.testing.assert_allclose(centred.train["x"][:, :2, 1], 0.0, atol=1e-6)  # 7 - mean 7
  np.testing.assert_allclose(centred.train["x"][:, :2, 0].std(), ds.meta["standardize"]["std"][0], rtol=1e-4)


def test_ts_writer_round_trip_and_generators(tmp_path):
  series = [np.array([[1.0, 2.0], [np.nan, 3.0], [4.0, 5.0]], np.float32), np.ones((2, 2), np.float32)]
  path = ts_format.write_ts(tmp_path / "rt.ts", series, ["b", "a"], ["b", "a"], "RT")
  back, labels, header = ts_format.read_ts(path)
  assert labels == ["b", "a"] and header["class_names"] == ["b", "a"] and header["equallength"] == "false"
  np.testing.assert_array_equal(back[0], series[0])  # NaN round-trips through '?'
  np.testing.assert_array_equal(back[1], series[1])
  data_lib.GENERATORS["ts"](tmp_path / "ts", classes=2, train=8, test=4, min_length=5, max_length=9)
  ds = data_lib.LOADERS["ts"](_data_config(path=str(tmp_path / "ts"), val_fraction=0.25), 0)
  assert ds.sizes() == {"train": 6, "val": 2, "test": 4} and ds.train["x"].shape[2] == 3
  path = data_lib.GENERATORS["npz"](tmp_path / "npz", classes=2, examples=20, frames=6, features=2)
  ds = data_lib.LOADERS["npz"](_data_config(path=str(path)), 0)
  assert ds.meta["class_names"] == ["class_0", "class_1"] and ds.train["mask"].sum(1).min() >= 3

"""Workout recordings: reader, window builder, Gaussian targets, split by recording, generator."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from research import config_file
from research.data import layouts
from research.data import loaders
from research.data import splits
from research.data import windows
from research.data.formats import workout
from research.data.synthetic import workout as synthetic_workout

_CONFIG = pathlib.Path(__file__).resolve().parents[2] / "configs" / "tcn.py"

PUSH, SQUAT, NONE = 0, 1, 4


def _recording(exercise, rep_starts, num_features=25):
  exercise = np.asarray(exercise, np.int32)
  angles = np.arange(len(exercise) * num_features, dtype=np.float32).reshape(len(exercise), num_features)
  return workout.Recording(name="r", path="r.npz", angles=angles % 180, fps=30.0, exercise=exercise,
                           rep_starts=np.asarray(rep_starts, np.int32))


def test_window_labels_majority_and_center():
  #            0  1  2  3  4  5  6  7  8  9 10 11 12
  exercise = [4, 4, 4, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
  rec = _recording(exercise, rep_starts=[3, 8])
  win = windows.make_windows(rec, window=5, stride=3, half_width=1.0, num_classes=5, label_mode="majority")
  # Starts 0, 3, 6 and a last window flush with the end (8) so every frame is covered.
  np.testing.assert_array_equal(win["start"], [0, 3, 6, 8])
  # [4 4 4 0 0] -> 4; [0 0 0 0 0] -> 0; [0 0 1 1 1] -> 1; [1 1 1 1 1] -> 1
  np.testing.assert_array_equal(win["y"], [NONE, PUSH, SQUAT, SQUAT])
  center = windows.make_windows(rec, window=5, stride=3, half_width=1.0, num_classes=5, label_mode="center")
  # Frame 2 of each window: frames 2, 5, 8, 10.
  np.testing.assert_array_equal(center["y"], [NONE, PUSH, SQUAT, SQUAT])
  np.testing.assert_array_equal(win["has_start"], [1, 1, 1, 1])
  np.testing.assert_allclose(win["x"][1], (rec.angles[3:8] - 90.0) / 45.0)
  assert win["x"].shape == (4, 5, 25) and win["seg"].shape == (4, 5)
  none_only = windows.make_windows(_recording([4] * 12, rep_starts=[]), window=5, stride=5, half_width=4.0,
                                   num_classes=5)
  np.testing.assert_array_equal(none_only["has_start"], 0)
  np.testing.assert_array_equal(none_only["seg"], 0.0)


def test_majority_tie_goes_to_lower_index():
  rec = _recording([1, 1, 0, 0], rep_starts=[])
  win = windows.make_windows(rec, window=4, stride=4, half_width=4.0, num_classes=5)
  np.testing.assert_array_equal(win["y"], [0])
  with pytest.raises(ValueError, match="label_mode"):
    windows.make_windows(rec, window=4, stride=4, half_width=4.0, num_classes=5, label_mode="mode")


def test_gaussian_targets_match_seed_profile():
  target = windows.rep_start_target(60, [10, 40], half_width=4.0)
  assert target[10] == pytest.approx(1.0) and target[40] == pytest.approx(1.0)
  for d in (4, -4):
    assert target[10 + d] == pytest.approx(0.5, abs=1e-6)
  # Independent form: a Gaussian that halves at +-h is 2 ** -((d / h) ** 2).
  d = np.minimum(np.abs(np.arange(60) - 10), np.abs(np.arange(60) - 40))
  np.testing.assert_allclose(target, 2.0 ** -((d / 4.0) ** 2), rtol=1e-5, atol=1e-7)
  assert target[22] < 0.01  # +-12 frames: ~2e-4 for this Gaussian
  # Targets are cut from the whole-recording trace: a start just outside a window still shows.
  rec = _recording([0] * 30, rep_starts=[12])
  win = windows.make_windows(rec, window=10, stride=10, half_width=4.0, num_classes=5)
  np.testing.assert_allclose(win["seg"][0], 2.0 ** -(((12 - np.arange(10)) / 4.0) ** 2), rtol=1e-5)
  np.testing.assert_array_equal(win["has_start"], [0, 1, 0])


def test_sets_of_counts_reps_inside_each_run():
  exercise = [4] * 5 + [0] * 10 + [4] * 5 + [1] * 8 + [4] * 2
  sets = windows.sets_of(np.asarray(exercise), [5, 9, 15, 20, 24], none_index=NONE)
  assert [(s["start"], s["end"], s["label"], s["count"]) for s in sets] == [(5, 15, 0, 2), (20, 28, 1, 2)]


def _write(path, **arrays):
  np.savez(path, **arrays)
  return path


def test_reader_accepts_strings_and_ints_and_names_bad_files(tmp_path):
  angles = np.full((40, 25), 90.0, np.float32)
  names = np.asarray(["none"] * 10 + ["squat"] * 30)
  rec = workout.read_recording(_write(tmp_path / "a.npz", angles=angles, fps=30.0, exercise=names,
                                      rep_starts=np.asarray([10, 25])))
  np.testing.assert_array_equal(rec.exercise, [NONE] * 10 + [SQUAT] * 30)
  ints = np.asarray([0] * 10 + [1] * 30)
  rec2 = workout.read_recording(_write(tmp_path / "b.npz", angles=angles, fps=30.0, exercise=ints,
                                       class_names=np.asarray(["none", "squat"]), rep_starts=[10]))
  np.testing.assert_array_equal(rec2.exercise, rec.exercise)
  bad_cases = {
      "missing.npz": ({"angles": angles, "fps": 30.0, "exercise": names}, "rep_starts"),
      "shape.npz": ({"angles": angles[:, :20], "fps": 30.0, "exercise": names, "rep_starts": [1]},
                    r"\(frames, 25\)"),
      "label.npz": ({"angles": angles, "fps": 30.0, "exercise": np.asarray(["lunge"] * 40), "rep_starts": [1]},
                    "lunge"),
      "order.npz": ({"angles": angles, "fps": 30.0, "exercise": names, "rep_starts": [20, 10]}, "ascending"),
      "range.npz": ({"angles": angles, "fps": 30.0, "exercise": names, "rep_starts": [45]}, r"\[0, 40\)"),
      "noname.npz": ({"angles": angles, "fps": 30.0, "exercise": ints, "rep_starts": [1]}, "class_names"),
  }
  for name, (arrays, message) in bad_cases.items():
    with pytest.raises(ValueError, match=message) as error:
      workout.read_recording(_write(tmp_path / name, **arrays))
    assert name in str(error.value)
  unlabelled = workout.read_recording(_write(tmp_path / "live.npz", angles=angles, fps=30.0),
                                      require_labels=False)
  assert unlabelled.exercise is None and unlabelled.rep_starts is None


def test_generator_writes_consistent_sessions(tmp_path):
  paths = synthetic_workout.generate(str(tmp_path), sessions=2, seed=3, sets_per_exercise=1, min_reps=2, max_reps=4)
  for path in paths:
    rec = workout.read_recording(path)
    assert rec.angles.shape[1] == 25 and rec.fps == 30.0
    assert 0.0 <= rec.angles.min() and rec.angles.max() <= 180.0
    sets = windows.sets_of(rec.exercise, rec.rep_starts, NONE)
    assert sorted(s["label"] for s in sets) == [0, 1, 2, 3]  # one set per exercise
    assert all(2 <= s["count"] <= 4 for s in sets)
    assert sum(s["count"] for s in sets) == len(rec.rep_starts)  # no start outside a set
    # The knee moves through a squat, the elbow through a push-up: exercise-specific kinematics.
    knee = layouts.JOINT_NAMES.index("left_knee")
    elbow = layouts.JOINT_NAMES.index("left_elbow")
    squat = next(s for s in sets if s["label"] == SQUAT)
    push = next(s for s in sets if s["label"] == PUSH)
    assert np.ptp(rec.angles[squat["start"]:squat["end"], knee]) > 50
    assert np.ptp(rec.angles[push["start"]:push["end"], elbow]) > 40
    assert np.ptp(rec.angles[push["start"]:push["end"], knee]) < 30
  again = synthetic_workout.generate(str(tmp_path / "again"), sessions=2, seed=3, sets_per_exercise=1, min_reps=2,
                           max_reps=4)
  np.testing.assert_array_equal(np.load(paths[1])["angles"], np.load(again[1])["angles"])


def test_split_is_by_recording_with_no_leakage(tmp_path):
  synthetic_workout.generate(str(tmp_path), sessions=6, seed=1, min_reps=2, max_reps=3)
  config = config_file.load(f"{_CONFIG}:smoke")
  config.data.path = str(tmp_path)
  data = loaders.load_workout(config.data, seed=0)
  names = {split: [r["name"] for r in data.meta["recordings"][split]] for split in ("train", "val", "test")}
  all_names = sum(names.values(), [])
  assert sorted(all_names) == [f"session_{i:03d}" for i in range(6)]  # each recording exactly once
  assert len(set(all_names)) == 6 and all(names.values())
  for split in ("train", "val", "test"):
    part = data.split(split)
    assert set(np.unique(part["recording"])) == set(range(len(names[split])))
    # Every window's frames come from its own recording: rebuild them from the file.
    for row in (0, len(part["y"]) - 1):
      rec = workout.read_recording(tmp_path / f"{names[split][part['recording'][row]]}.npz")
      start = part["start"][row]
      np.testing.assert_allclose(part["x"][row], windows.angles_to_input(rec.angles[start:start + 30]))
  # Windows of different recordings never coincide across splits.
  train_keys = {w.tobytes() for w in data.train["x"]}
  assert not any(w.tobytes() in train_keys for w in data.test["x"])
  assert not any(w.tobytes() in train_keys for w in data.val["x"])
  sets = data.meta["recordings"]["test"][0]["sets"]
  assert sets and all(s["count"] >= 2 for s in sets)
  again = loaders.load_workout(config.data, seed=0)
  assert [r["name"] for r in again.meta["recordings"]["test"]] == names["test"]


def test_split_recordings_sizes():
  split = splits.by_recording([f"r{i}" for i in range(10)], 0.15, 0.2, seed=0)
  assert (len(split["train"]), len(split["val"]), len(split["test"])) == (6, 2, 2)
  split3 = splits.by_recording(["a", "b", "c"], 0.15, 0.2, seed=0)
  assert sorted(len(v) for v in split3.values()) == [1, 1, 1]
  with pytest.raises(ValueError, match="at least 3 recordings"):
    splits.by_recording(["a", "b"], 0.15, 0.2, seed=0)


def test_loader_skips_and_counts_bad_recordings(tmp_path):
  synthetic_workout.generate(str(tmp_path), sessions=3, seed=2, sets_per_exercise=1, min_reps=2, max_reps=2)
  np.savez(tmp_path / "broken.npz", angles=np.zeros((50, 7), np.float32), fps=30.0)
  config = config_file.load(f"{_CONFIG}:smoke")
  config.data.path = str(tmp_path)
  data = loaders.load_workout(config.data, seed=0)
  (skipped,) = data.meta["skipped"]
  assert skipped["item"] == "broken.npz" and skipped["reason"] == "missing_exercise"
  assert "missing key 'exercise'" in skipped["detail"]
  (tmp_path / "session_000.npz").unlink()
  with pytest.raises(ValueError, match="broken.npz"):
    loaders.load_workout(config.data, seed=0)


def test_delayed_targets_for_causal_models():
  rec = _recording([0] * 40, rep_starts=[5, 30])
  win = windows.make_windows(rec, window=40, stride=40, half_width=4.0, num_classes=5, delay=10)
  # Starts 5 and 30 are marked at 15 and 40; 40 lies past the end, so only one peak remains.
  assert int(np.argmax(win["seg"][0])) == 15 and win["seg"][0, 15] == pytest.approx(1.0)
  np.testing.assert_allclose(win["seg"][0], windows.rep_start_target(40, [15], 4.0))

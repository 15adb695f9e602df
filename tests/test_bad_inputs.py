"""Bad inputs end in one clear error, never a crash after hours of work and never a changed file.

Every case writes its input under a fresh folder and returns the call that must fail. The test
checks the error type, that the message holds each expected part (the file or key, and what to
do), and that the folder's files are byte for byte what they were before the call.

Add a case: append `Case(id, make, parts)` to a list in CASES (`make(folder) -> call`), or a
`CliCase(id, argv, parts)` to CLI_CASES for a launch script that must exit non-zero with a
message and no traceback.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import pathlib
import subprocess
import sys
from typing import Callable

import numpy as np
import pytest

from conftest import ROOT, run_commands
from research import config_file
from research import data as data_lib
from research.data import DataError, DataNotFoundError
from research.data import defaults as data_defaults
from research.data import inputs
from research.data import layouts
from research.data import loaders
from research.data.formats import hht_files, workout
from research.data.synthetic import workout as synthetic_workout


@dataclasses.dataclass(frozen=True)
class Case:
  id: str
  make: Callable[[pathlib.Path], Callable[[], object]]  # writes the input, returns the failing call
  parts: tuple[str, ...]  # substrings the message must contain
  error: type = DataError


@dataclasses.dataclass(frozen=True)
class CliCase:
  id: str
  argv: tuple[str, ...]  # launch script and its arguments; '{tmp}' is the case's folder
  parts: tuple[str, ...]


def _tree_hash(folder: pathlib.Path) -> dict[str, str]:
  return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(folder.rglob("*")) if p.is_file()}


def _config(spec: str, **data):
  config = config_file.load(ROOT / "configs" / spec)
  config.data.update(data)
  return config


def _load(config):
  return lambda: data_lib.load_dataset(config)


# --------------------------------------------------------------------------- .npz sequences

def _npz(folder, name="d.npz", **arrays):
  path = folder / name
  np.savez(path, **arrays)
  return path


def _npz_case(**arrays):
  def make(folder):
    if arrays:
      _npz(folder, **arrays)
    return _load(_config("sign_lstm.py", name="npz", path=str(folder / "d.npz"), cache_dir=""))
  return make


def _labels(n, classes=2):
  return np.array([f"c{i % classes}" for i in range(n)])


X = np.random.default_rng(0).normal(size=(12, 6, 3)).astype(np.float32)
X_INF = X.copy()
X_INF[4, 2, 1] = np.inf
X_NAN_CASE = X.copy()
X_NAN_CASE[3] = np.nan

NPZ_CASES = [
    Case("npz-missing-file", _npz_case(), ("d.npz", "is not a file", "x (N, T, F)"), DataNotFoundError),
    Case("npz-not-a-zip", lambda f: ((f / "d.npz").write_bytes(b"not a zip") and None) or _npz_case()(f),
         ("d.npz", "cannot read as .npz", "np.savez")),
    Case("npz-missing-y", _npz_case(x=X), ("d.npz", "missing key 'y'", "np.savez")),
    Case("npz-x-strings", _npz_case(x=np.array([["a"] * 6] * 12), y=_labels(12)),
         ("d.npz[x]", "must be numeric", "Save float arrays")),
    Case("npz-x-4d", _npz_case(x=X[..., None], y=_labels(12)), ("d.npz[x]", "(N, T, F) or (N, T)", "(12, 6, 3, 1)")),
    Case("npz-y-length", _npz_case(x=X, y=_labels(11)), ("d.npz", "y must hold one label per example", "(11,)")),
    Case("npz-inf", _npz_case(x=X_INF, y=_labels(12)),
         ("d.npz[x] case 4", "infinite values", "Replace +-Inf with NaN")),
    Case("npz-single-class", _npz_case(x=X, y=np.array(["only"] * 12)),
         ("d.npz", "1 class ('only')", "at least two classes")),
    Case("npz-label-only-in-test", _npz_case(x=X, y=_labels(12), x_test=X[:3], y_test=np.array(["c0", "c1", "new"])),
         ("d.npz", "['new'] appear only in the test split", "add training examples")),
    Case("npz-test-channels", _npz_case(x=X, y=_labels(12), x_test=X[:4, :, :2], y_test=_labels(4)),
         ("d.npz", "test split has [2] features", "training split [3]", "same channels")),
    Case("npz-x-test-without-y-test", _npz_case(x=X, y=_labels(12), x_test=X[:2]),
         ("d.npz", "give both x_test and y_test")),
    Case("npz-float-labels", _npz_case(x=X, y=np.linspace(0, 1, 12)),
         ("d.npz[y]", "non-integer", "save integers or strings")),
    Case("npz-case-without-values", _npz_case(x=X_NAN_CASE, y=_labels(12)),
         ("d.npz[x]", "case 3 has no values", "remove it or fill in")),
    Case("npz-pickled-object", _npz_case(x=np.array([object()] * 12), y=_labels(12)),
         ("d.npz", "cannot read as .npz", "plain numeric or string arrays")),
    Case("npz-duplicate-class-names",
         _npz_case(x=X, y=np.arange(12) % 2, class_names=np.array(["a", "a"])),
         ("d.npz[y]", "['a'] are listed more than once", "list each class once")),
]


# --------------------------------------------------------------------------- UEA/UCR .ts

TS_HEADER = "@problemName Toy\n@dimensions 2\n@classLabel true walk run\n@data\n"
TS_ROWS = "".join(f"{i},{i + 1},{i + 2}:{i},{i},{i}:{'walk' if i % 2 else 'run'}\n" for i in range(8))


def _ts_case(train: str | None, test: str | None = None):
  def make(folder):
    if train is not None:
      (folder / "Toy_TRAIN.ts").write_text(train)
    if test is not None:
      (folder / "Toy_TEST.ts").write_text(test)
    return _load(_config("sign_lstm.py", name="ts", path=str(folder / "Toy_TRAIN.ts"), val_fraction=0.25))
  return make


TS_CASES = [
    Case("ts-missing-file", _ts_case(None), ("Toy_TRAIN.ts", "no such .ts file", "config.data.path"),
         DataNotFoundError),
    Case("ts-no-data-line", _ts_case("@problemName Toy\n1,2:walk\n"), ("Toy_TRAIN.ts:2", "header line before @data")),
    Case("ts-no-data-section", _ts_case("@problemName Toy\n"), ("Toy_TRAIN.ts", "no '@data' line", "then '@data'")),
    Case("ts-bad-value", _ts_case(TS_HEADER + "1,2,x:1,2,3:walk\n"),
         ("Toy_TRAIN.ts:5", "dimension 1", "Write missing values as '?'")),
    Case("ts-dimensions-differ", _ts_case(TS_HEADER + TS_ROWS + "1,2:walk\n"),
         ("Toy_TRAIN.ts:13", "case has 1 dimensions", "same dimensions")),
    Case("ts-header-dimensions", _ts_case(TS_HEADER.replace("@dimensions 2", "@dimensions 3") + TS_ROWS),
         ("Toy_TRAIN.ts", "@dimensions '3'", "fix the header")),
    Case("ts-test-channels", _ts_case(TS_HEADER + TS_ROWS,
                                      TS_HEADER.replace("@dimensions 2", "@dimensions 1") + "1,2,3:walk\n4,5:run\n"),
         ("Toy_TRAIN.ts + ", "Toy_TEST.ts", "test split has [1] features", "same channels")),
    Case("ts-timestamps", _ts_case("@timeStamps true\n@classLabel true a b\n@data\n(1,2):a\n"),
         ("Toy_TRAIN.ts", "'@timeStamps true'", "export the series without timestamps")),
    Case("ts-unknown-label", _ts_case(TS_HEADER + TS_ROWS + "1,2:3,4:jump\n"),
         ("Toy_TRAIN.ts", "['jump'] are not among the class names", "add them")),
    Case("ts-inf", _ts_case(TS_HEADER + TS_ROWS.replace("0,1,2", "0,inf,2", 1)),
         ("Toy_TRAIN.ts case 0", "infinite values", "Replace +-Inf")),
    Case("ts-empty-label", _ts_case(TS_HEADER + "1,2:3,4:\n"), ("Toy_TRAIN.ts:5", "empty class label")),
    Case("ts-label-only-in-test",
         _ts_case(TS_HEADER.replace("walk run", "walk run jump") + TS_ROWS,
                  TS_HEADER.replace("walk run", "walk run jump") + "1,2:3,4:jump\n1,2:3,4:walk\n"),
         ("Toy_TEST.ts", "['jump'] appear only in the test split", "add training examples")),
]


# --------------------------------------------------------------------------- MediaPipe folders

def _sequence(folder: pathlib.Path, frames=4, shape=(layouts.NUM_KEYPOINT_FEATURES,)):
  folder.mkdir(parents=True, exist_ok=True)
  for t in range(frames):
    np.save(folder / f"{t}.npy", np.full(shape, 0.1 * t))


def _kp_case(layout: dict[str, list[int]] | None, actions=("Hello", "Yes"), **data):
  """layout: action -> frame count of each sequence (0 = a sequence of the wrong shape)."""
  def make(folder):
    root = folder / "MP_Data"
    for action, sequences in (layout or {}).items():
      for i, frames in enumerate(sequences):
        _sequence(root / action / str(i), frames or 4, shape=(100,) if frames == 0 else (layouts.NUM_KEYPOINT_FEATURES,))
    return _load(_config("sign_lstm.py:smoke", path=str(root), actions=tuple(actions), frames=4, cache_dir="",
                         **data))
  return make


KEYPOINT_CASES = [
    Case("keypoints-missing-root", _kp_case(None), ("MP_Data", "is not a folder", "<root>/<Action>/<sequence>"),
         DataNotFoundError),
    Case("keypoints-no-action-folders", lambda f: ((f / "MP_Data").mkdir() or None) or _kp_case({}, actions=())(f),
         ("MP_Data", "no action folders found", "config.data.path")),
    Case("keypoints-action-all-skipped", _kp_case({"Hello": [4] * 6, "Yes": [0, 2, 0]}),
         ("'Yes' has no usable sequence", "wrong_shape", "remove it from config.data.actions")),
    Case("keypoints-action-folder-missing", _kp_case({"Hello": [4] * 6, "Yes": [4] * 6}, actions=("Hello", "Yes", "Stop")),
         ("action 'Stop' has no folder", "MP_Data", "Record that action")),
    Case("keypoints-single-action", _kp_case({"Hello": [4] * 6}, actions=("Hello",)),
         ("MP_Data", "1 class ('Hello')", "at least two classes")),
    Case("keypoints-one-example-of-a-class", _kp_case({"Hello": [4] * 6, "Yes": [4]}),
         ("MP_Data", "at least 2 examples per class", "['Yes'] have 1", "Add data")),
]


# --------------------------------------------------------------------------- workout recordings

def _session(folder: pathlib.Path, name: str = "s", sessions: int = 1) -> pathlib.Path:
  synthetic_workout.generate(str(folder / "src"), sessions=sessions, seed=1, sets_per_exercise=1, min_reps=2,
                             max_reps=2)
  for path in sorted((folder / "src").glob("*.npz")):
    path.rename(folder / (f"{name}.npz" if sessions == 1 else path.name))
  (folder / "src").rmdir()
  return folder / f"{name}.npz"


def _recording_case(change: Callable[[dict], dict]):
  def make(folder):
    path = _session(folder)
    arrays = change(dict(np.load(path)))
    path.unlink()
    np.savez(folder / "bad.npz", **arrays)
    return lambda: workout.read_recording(folder / "bad.npz")
  return make


def _without(key):
  return lambda a: {k: v for k, v in a.items() if k != key}


def _nan_angles(a):
  angles = a["angles"].copy()
  angles[7, 3] = np.nan
  return {**a, "angles": angles}


def _workout_folder_case(make_files, **data):
  def make(folder):
    make_files(folder)
    return _load(_config("tcn.py:smoke", path=str(folder / "rec"), cache_dir="", **data))
  return make


def _three_with_one_bad(folder):
  _session(folder / "rec", sessions=3)
  np.savez(folder / "rec" / "session_001.npz", angles=np.zeros((40, 24), np.float32), fps=30.0)


def _empty_folder(folder):
  (folder / "rec").mkdir()
  (folder / "rec" / "notes.txt").write_text("no recordings here")


WORKOUT_CASES = [
    Case("workout-missing-folder", _workout_folder_case(lambda f: None), ("rec", "is not a folder", "leave it empty"),
         DataNotFoundError),
    Case("workout-empty-folder", _workout_folder_case(_empty_folder), ("rec", "holds no .npz recordings",
                                                                       "leave data.path empty")),
    Case("workout-fps-mismatch", _workout_folder_case(lambda f: _session(f / "rec", sessions=3), fps=25.0),
         ("session_000.npz", "recorded at 30 fps", "config.data.fps is 25", "resample the recording")),
    Case("workout-too-few-usable", _workout_folder_case(_three_with_one_bad),
         ("only 2 usable recordings", "session_001.npz: missing_exercise", "Fix those files or add recordings")),
    Case("workout-24-joints", _recording_case(lambda a: {**a, "angles": a["angles"][:, :24],
                                                          "joint_names": a["joint_names"][:24]}),
         ("bad.npz", "'angles' must be (frames, 25)", "JOINT_NAMES order")),
    Case("workout-no-fps", _recording_case(_without("fps")), ("bad.npz", "missing key 'fps'", "A recording needs")),
    Case("workout-fps-zero", _recording_case(lambda a: {**a, "fps": np.float32(0)}),
         ("bad.npz", "'fps' must be one positive number", "Save fps=")),
    Case("workout-nan-angles", _recording_case(_nan_angles), ("bad.npz", "'angles' holds 1 NaN/Inf", "interpolate")),
    Case("workout-rep-starts-out-of-range",
         _recording_case(lambda a: {**a, "rep_starts": np.append(a["rep_starts"], len(a["angles"]) + 5)}),
         ("bad.npz", "'rep_starts' must lie in [0,", "drop the out-of-range starts")),
    Case("workout-rep-starts-unsorted", _recording_case(lambda a: {**a, "rep_starts": a["rep_starts"][::-1]}),
         ("bad.npz", "strictly ascending", "Sort them")),
    Case("workout-unknown-label",
         _recording_case(lambda a: {**a, "exercise": np.where(a["exercise"] == "dip", "lunge", a["exercise"])}),
         ("bad.npz", "['lunge'] are not among the configured classes", "config.data.class_names")),
    Case("workout-int-labels-without-names",
         _recording_case(lambda a: {**_without("class_names")(a), "exercise": np.zeros(len(a["angles"]), np.int32)}),
         ("bad.npz", "no 'class_names'", "add class_names")),
    Case("workout-float-rep-starts", _recording_case(lambda a: {**a, "rep_starts": a["rep_starts"] + 0.5}),
         ("bad.npz", "'rep_starts' must be integer frame indices", "np.int32")),
]


# --------------------------------------------------------------------------- HHT files

def _hht_case(files: dict[str, dict] | None, **data):
  def make(folder):
    root = folder / "hht"
    if files is not None:
      root.mkdir()
      for name, arrays in files.items():
        if arrays is None:
          (root / name).write_bytes(b"garbage")
        else:
          np.savez(root / name, **arrays)
    return _load(_config("cnn_svm.py:smoke", path=str(root), cache_dir="", **data))
  return make


IMAGE = {"hht": np.ones((32, 32), np.float32)}
SIX_CLASSES = {f"B_{m}_{g}_{i:03d}.npz": IMAGE for i, (m, g) in enumerate(
    [(m, g) for m in ("fatiguetest", "half", "invalid") for g in "MF"] * 2)}


def _nan_image():
  image = np.ones((32, 32), np.float32)
  image[3, 4] = np.nan
  return {"hht": image}


HHT_CASES = [
    Case("hht-missing-folder", _hht_case(None), (hht_files.NO_FILES, "hht", "make_data.py hht"), DataNotFoundError),
    Case("hht-no-training-files", _hht_case({"B_test_001.npz": IMAGE, "B_walk_M_001.npz": IMAGE}),
         (hht_files.NO_TRAINING_FILES, "B_walk_M_001.npz", "MUSCLE_movement_GENDER_###.npz")),
    Case("hht-wrong-image-size", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": {"hht": np.ones((8, 8))}}),
         ("B_half_M_100.npz", "'hht' has shape (8, 8)", "Set data.image_size")),
    Case("hht-no-key", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": {"image": np.ones((32, 32))}}),
         ("B_half_M_100.npz", "expected key 'hht'", "'signal'")),
    Case("hht-signal-2d", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": {"signal": np.ones((64, 2)), "fs": 1000.0}}),
         ("B_half_M_100.npz", "'signal' must be a 1-D series", "one channel per file")),
    Case("hht-signal-nan", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": {
        "signal": np.r_[np.ones(40), np.nan, np.ones(40)], "fs": 1000.0}}),
         ("B_half_M_100.npz", "'signal' holds 1 NaN/Inf", "fill or cut the gaps")),
    Case("hht-image-nan", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": _nan_image()}),
         ("B_half_M_100.npz", "1 NaN/Inf", "Recompute it")),
    Case("hht-bad-fs", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": {"signal": np.ones(64), "fs": -5.0}}),
         ("B_half_M_100.npz", "sampling rate", "one positive number in Hz")),
    Case("hht-signal-too-short", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": {"signal": np.ones(20), "fs": 1e3}}),
         ("B_half_M_100.npz", "20 samples", "lower data.image_size")),
    Case("hht-unreadable", _hht_case({**SIX_CLASSES, "B_half_M_100.npz": None}),
         ("B_half_M_100.npz", "cannot read as .npz", "numpy.savez")),
    Case("hht-single-class", _hht_case({f"B_half_F_{i:03d}.npz": IMAGE for i in range(6)}),
         ("hht", "'F_half'", "at least two classes")),
]


# --------------------------------------------------------------------------- sEMG windows and manifests

def _semg_npz_case(**arrays):
  def make(folder):
    if arrays:
      np.savez(folder / "w.npz", **arrays)
    cfg = data_defaults.semg_data()
    cfg.update({"path": str(folder / "w.npz"), "target_domain": ""})
    return lambda: loaders.load_semg(cfg, 0)
  return make


W = np.random.default_rng(1).normal(size=(20, 64)).astype(np.float32)
W_NAN = W.copy()
W_NAN[6, 10] = np.nan


def _manifest_case(rows, files=None, signal=None, **data):
  """rows: manifest rows after the header file,label,start,end; files: recordings to write."""
  def make(folder):
    root = folder / "rec"
    root.mkdir()
    for name, values in (files or {"a.npy": signal if signal is not None else np.arange(400.0)}).items():
      np.save(root / name, values) if name.endswith(".npy") else np.savetxt(root / name, values, delimiter=",")
    (folder / "outside.npy").write_bytes((root / "a.npy").read_bytes())
    if rows is not None:
      with open(root / "manifest.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerows([["file", "label", "start", "end"]] + [[str(v).format(folder=folder) for v in r] for r in rows])
    cfg = data_defaults.semg_data()
    cfg.update({"path": str(root), "window": 50, "stride": 50, "target_domain": "", **data})
    return lambda: loaders.load_semg(cfg, 0)
  return make


GOOD_ROWS = [["a.npy", "fist", 0, 200], ["a.npy", "open", 200, 400]]

SEMG_CASES = [
    Case("semg-npz-missing", _semg_npz_case(), ("w.npz", "does not exist", "make_data.py semg"), DataNotFoundError),
    Case("semg-npz-nan", _semg_npz_case(x=W_NAN, y=np.arange(20) % 2),
         ("w.npz", "1 NaN/Inf values in 'x'", "first at index 6", "remove those windows")),
    Case("semg-npz-y-length", _semg_npz_case(x=W, y=np.arange(19) % 2), ("w.npz", "one label per window")),
    Case("semg-npz-single-class", _semg_npz_case(x=W, y=np.zeros(20, np.int64)),
         ("w.npz", "same label", "at least two classes")),
    Case("semg-npz-int-labels-with-a-gap", _semg_npz_case(x=W, y=(np.arange(20) % 2) * 2),
         ("w.npz", "must run 0..C-1", "missing e.g. [1]", "Renumber them")),
    Case("semg-npz-domain-length", _semg_npz_case(x=W, y=np.arange(20) % 2, domain=np.array(["L3"] * 5)),
         ("w.npz", "'domain' must give one value per window", "(20,)")),
    Case("semg-npz-too-few-windows", _semg_npz_case(x=W[:2], y=np.array([0, 1])),
         ("w.npz", "1 examples are too few for a 20% validation split", "add data")),
    Case("semg-npz-x-text", _semg_npz_case(x=np.array([["a"] * 64] * 20), y=np.arange(20) % 2),
         ("w.npz", "'x' must hold numbers")),
    Case("semg-manifest-parent-path", _manifest_case([["../outside.npy", "fist"], ["a.npy", "open"]]),
         ("manifest.csv:2", "'../outside.npy' lies outside the recordings folder", "allow_outside_paths=True")),
    Case("semg-manifest-absolute-path", _manifest_case([["{folder}/outside.npy", "fist"], ["a.npy", "open"]]),
         ("manifest.csv:2", "outside the recordings folder", "list it by a relative name")),
    Case("semg-manifest-negative-start", _manifest_case([["a.npy", "fist", -100, ""], ["a.npy", "open", 0, 200]]),
         ("manifest.csv:2", "'start' must be >= 0", "give the sample index")),
    Case("semg-manifest-end-beyond", _manifest_case([["a.npy", "fist", 0, 900], ["a.npy", "open", 0, 200]]),
         ("manifest.csv:2", "does not fit 'a.npy' of 400 samples", "start <= end <= its length")),
    Case("semg-manifest-start-text", _manifest_case([["a.npy", "fist", "ten", ""], ["a.npy", "open", 0, 200]]),
         ("manifest.csv:2", "'start' must be a whole sample index", "'ten'")),
    Case("semg-manifest-missing-file", _manifest_case([["b.npy", "fist"], ["a.npy", "open"]]),
         ("manifest.csv:2", "lists 'b.npy'", "fix the manifest or add the recording"), DataNotFoundError),
    Case("semg-manifest-no-label-column", lambda f: _write_bad_manifest(f, "file,class\na.npy,fist\n"),
         ("manifest.csv", "columns 'file' and 'label'", "['class', 'file']")),
    Case("semg-manifest-missing", _manifest_case(None), ("manifest.csv", "no manifest", "file,label"),
         DataNotFoundError),
    Case("semg-recording-nan", _manifest_case(GOOD_ROWS, signal=np.r_[np.arange(100.0), np.nan, np.arange(299.0)]),
         ("a.npy", "1 NaN/Inf samples", "sample 100", "fill or cut the gaps")),
    Case("semg-recordings-channel-mismatch",
         _manifest_case([["a.npy", "fist"], ["b.csv", "open"]],
                        files={"a.npy": np.arange(400.0), "b.csv": np.ones((400, 2))}),
         ("manifest.csv", "different channel counts [1, 2]", "same channels")),
    Case("semg-manifest-empty-label", _manifest_case([["a.npy", ""], ["a.npy", "open"]]),
         ("manifest.csv:2", "empty 'label'", "give every row its class")),
]


# --------------------------------------------------------------------------- prediction inputs


def _inputs_case(write):
  def make(folder):
    target = write(folder)
    return lambda: inputs.read_inputs(target)
  return make


def _frames_with_gap(folder):
  for t in (0, 1, 3):
    np.save(folder / f"{t}.npy", np.zeros(5))
  return folder


def _unreadable_npy(folder):
  (folder / "seq.npy").write_bytes(b"\x93NUMPY broken")
  return folder / "seq.npy"


INPUT_CASES = [
    Case("inputs-missing", _inputs_case(lambda f: f / "nothing"), ("nothing", "no such file or folder", "--input"),
         DataNotFoundError),
    Case("inputs-unreadable-npy", _inputs_case(_unreadable_npy), ("seq.npy", "cannot read as .npy", "numpy.save")),
    Case("inputs-npz-without-x", _inputs_case(lambda f: _npz(f, "in.npz", a=np.zeros((3, 2)), b=np.zeros(2))),
         ("in.npz", "needs an array named 'x'", "['a', 'b']")),
    Case("inputs-4d-array", _inputs_case(lambda f: _npz(f, "in.npz", x=np.zeros((2, 3, 4, 5)))),
         ("in.npz", "(frames, features) or (sequences, frames, features)", "(2, 3, 4, 5)")),
    Case("inputs-frame-gap", _inputs_case(_frames_with_gap), ("numbered 0..n-1 without gaps", "rename the frames")),
    Case("inputs-text-array", _inputs_case(lambda f: _npz(f, "in.npz", x=np.array([["a", "b"]]))),
         ("in.npz", "inputs must be numbers", "<U1")),
]


def _write_bad_manifest(folder, text):
  make = _manifest_case(GOOD_ROWS)
  call = make(folder)
  (folder / "rec" / "manifest.csv").write_text(text)
  return call


CASES = NPZ_CASES + TS_CASES + KEYPOINT_CASES + WORKOUT_CASES + HHT_CASES + SEMG_CASES + INPUT_CASES


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path):
  call = case.make(tmp_path)
  before = _tree_hash(tmp_path)
  with pytest.raises(case.error) as info:
    call()
  assert isinstance(info.value, ValueError), "a bad input is a ValueError (DataError) for callers"
  message = str(info.value)
  missing = [part for part in case.parts if part not in message]
  assert not missing, f"message lacks {missing}: {message}"
  assert "\n" not in message, "one line"
  assert _tree_hash(tmp_path) == before, "the reader changed the input files"


def test_case_ids_are_unique():
  ids = [c.id for c in CASES] + [c.id for c in CLI_CASES]
  assert len(ids) == len(set(ids))


def test_outside_paths_are_read_when_allowed(tmp_path):
  call = _manifest_case([["../outside.npy", "fist"], ["a.npy", "open"]], allow_outside_paths=True)(tmp_path)
  dataset = call()
  assert dataset.meta["class_names"] == ["fist", "open"] and sum(dataset.sizes().values()) == 16


# --------------------------------------------------------------------------- launch scripts

CLI_CASES = [
    CliCase("make-data-unknown-option", ("launch/make_data.py", "workout", "--out", "{tmp}/o", "--sesions", "3"),
            ("unknown option --sesions", "--sessions")),
    CliCase("make-data-not-a-number", ("launch/make_data.py", "workout", "--out", "{tmp}/o", "--sessions", "many"),
            ("--sessions takes a whole number", "'many'")),
    CliCase("make-data-negative-seed", ("launch/make_data.py", "keypoints", "--out", "{tmp}/o", "--seed", "-1"),
            ("--seed takes a whole number >= 0",)),
    CliCase("make-data-refused-options",
            ("launch/make_data.py", "workout", "--out", "{tmp}/o", "--min_reps", "5", "--max_reps", "2"),
            ("error: workout generator", "1 <= min_reps <= max_reps", "Change those options")),
    CliCase("make-data-bad-layout", ("launch/make_data.py", "semg", "--out", "{tmp}/o", "--layout", "folders"),
            ("error: make_data semg: --layout must be npz or recordings", "'folders'")),
    CliCase("make-data-path-in-action", ("launch/make_data.py", "keypoints", "--out", "{tmp}/o", "--actions", "../up"),
            ("error: keypoints generator", "'../up'", "plain folder names")),
    CliCase("make-data-no-out", ("launch/make_data.py", "ts"), ("--out",)),
    # Configs and workdirs, refused before any data is read or any file written.
    CliCase("train-missing-config", ("launch/train.py", "--config", "configs/nope.py", "--workdir", "{tmp}/w"),
            ("cannot load the config file configs/nope.py", "Give a path like configs/tcn.py")),
    CliCase("train-unknown-variant", ("launch/train.py", "--config", "configs/tcn.py:bogus", "--workdir", "{tmp}/w"),
            ("Unknown variant 'bogus'", "valid: full, causal, smoke")),
    CliCase("train-misspelt-key", ("launch/train.py", "--config", "configs/tcn.py", "--config.train.epoch=3",
                                   "--workdir", "{tmp}/w"), ("--config.train.epoch", "'epochs'", "spelling")),
    CliCase("train-value-of-wrong-type", ("launch/train.py", "--config", "configs/tcn.py",
                                          "--config.train.batch_size=abc", "--workdir", "{tmp}/w"),
            ("--config.train.batch_size=abc",)),
    CliCase("train-zero-batch", ("launch/train.py", "--config", "configs/tcn.py", "--config.train.batch_size=0",
                                 "--workdir", "{tmp}/w"), ("config.train.batch_size is 0", ">= 1")),
    CliCase("train-zero-checkpoint-every", ("launch/train.py", "--config", "configs/tcn.py",
                                            "--config.train.checkpoint_every=0", "--workdir", "{tmp}/w"),
            ("config.train.checkpoint_every is 0", ">= 1")),
    CliCase("cv-negative-runs-per-program", ("launch/cv.py", "--config", "configs/sign_lstm.py:smoke",
                                             "--config.train.runs_per_program=-1", "--workdir", "{tmp}/w"),
            ("config.train.runs_per_program is -1", ">= 0 (0: all runs in one program)")),
    CliCase("train-negative-lr", ("launch/train.py", "--config", "configs/sign_lstm.py", "--config.optim.lr=-0.001",
                                  "--workdir", "{tmp}/w"), ("config.optim.lr is -0.001", "> 0")),
    CliCase("train-zero-epochs-without-head", ("launch/train.py", "--config", "configs/maxcrnn.py",
                                               "--config.train.epochs=0", "--workdir", "{tmp}/w"),
            ("config.train.epochs is 0", "only for a head on an untrained encoder")),
    CliCase("train-workdir-is-a-file", ("launch/train.py", "--config", "configs/random_forest.py:smoke",
                                        "--workdir", "{tmp}/keep.txt"), ("keep.txt is a file, not a folder",)),
    CliCase("cv-missing-baseline", ("launch/cv.py", "--config", "configs/maxcrnn.py:smoke", "--baseline",
                                    "configs/forest.py", "--workdir", "{tmp}/w"),
            ("cannot load the config file", "configs/forest.py")),
    CliCase("ablate-unknown-field", ("launch/ablate.py", "--config", "configs/random_forest.py:smoke", "--vary",
                                     "head.forest.n_trees=5,10", "--workdir", "{tmp}/w"),
            ("no field 'head.forest.n_trees'", "n_estimators")),
    CliCase("export-untrained-workdir", ("launch/export.py", "--workdir", "{tmp}"),
            ("config.json is missing", "not a trained workdir", "launch/train.py")),
    CliCase("evaluate-untrained-workdir", ("launch/evaluate.py", "--workdir", "{tmp}"),
            ("config.json is missing", "not a trained workdir")),
    CliCase("predict-missing-workdir", ("launch/predict.py", "--workdir", "{tmp}/none", "--input", "{tmp}/keep.txt"),
            ("config.json is missing",)),
    CliCase("make-data-out-is-a-file", ("launch/make_data.py", "npz", "--out", "{tmp}/keep.txt"),
            ("cannot write", "keep.txt", "File exists", "--out must be a folder")),
    CliCase("train-batch-larger-than-memory", ("launch/train.py", "--config", "configs/lstm_filter.py:smoke",
                                               "--config.train.batch_size=100000000", "--workdir", "{tmp}/w"),
            ("config.train.batch_size is 100000000", "the data have", "GiB", "--config.train.batch_size=")),
    CliCase("cv-on-the-auto-config", ("launch/cv.py", "--config", "configs/auto.py:smoke", "--workdir", "{tmp}/w"),
            ("chooses among candidate configs", "one candidate's config")),
    CliCase("train-unknown-stepping", ("launch/train.py", "--config", "configs/inception_time.py:smoke",
                                       "--config.train.stepping=sideways", "--workdir", "{tmp}/w"),
            ("config.train.stepping is 'sideways'", "one of ['auto', 'scan', 'host']")),
    CliCase("cv-unknown-run-layout", ("launch/cv.py", "--config", "configs/sign_lstm.py:smoke",
                                      "--config.train.runs=parallel", "--workdir", "{tmp}/w"),
            ("config.train.runs is 'parallel'", "one of ['auto', 'vmap', 'sequential']")),
    CliCase("train-unknown-conv", ("launch/train.py", "--config", "configs/inception_time.py:smoke",
                                   "--config.model.conv=fft", "--workdir", "{tmp}/w"),
            ("config.model.conv must be one of", "'fft'")),
    CliCase("train-unknown-model", ("launch/train.py", "--config", "configs/lstm_filter.py:smoke",
                                    "--config.model.name=lstmm", "--workdir", "{tmp}/w"), ("lstmm", "lstm_regressor")),
    CliCase("train-eval-batch-larger-than-memory", ("launch/train.py", "--config", "configs/lstm_filter.py:smoke",
                                                    "--config.train.eval_batch_size=100000000", "--workdir",
                                                    "{tmp}/w"), ("config.train.eval_batch_size is 100000000", "GiB")),
]


# One case per launcher family runs in the fast tier, in a fresh interpreter; the rest run in the full
# suite, all in one warm process that forks a child per case (conftest.run_commands: each script runs
# as `python script args` would). The checks behind them are tested in-process too (test_config.py,
# test_workdir.py).
FAST_CLI_CASES = {"make-data-unknown-option", "train-misspelt-key", "train-zero-batch", "export-untrained-workdir"}


def _refusal_problems(case, folder, before, code, stderr) -> list[str]:
  """What is wrong with how a launch script refused `case` (empty when it refused as it should)."""
  problems = []
  if code == 0:
    problems.append("exited 0")
  if "Traceback" in stderr:
    problems.append("printed a traceback")
  missing = [part for part in case.parts if part not in stderr]
  if missing:
    problems.append(f"stderr lacks {missing}")
  if _tree_hash(folder) != before:
    problems.append("a refused command wrote files")
  return problems


def _case_folder(root: pathlib.Path, case) -> tuple[pathlib.Path, list[str], dict]:
  folder = root / case.id
  folder.mkdir()
  (folder / "keep.txt").write_text("an existing file")
  return folder, [a.format(tmp=folder) for a in case.argv], _tree_hash(folder)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CLI_CASES if c.id in FAST_CLI_CASES])
def test_bad_cli_input(case, tmp_path):
  folder, argv, before = _case_folder(tmp_path, case)
  done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300,
                        env={**os.environ, "PYTHONPATH": str(ROOT)})
  problems = _refusal_problems(case, folder, before, done.returncode, done.stderr)
  assert not problems, f"{case.id}: {'; '.join(problems)}:\n{done.stderr}"


@pytest.mark.slow
def test_every_other_bad_cli_input(tmp_path):
  cases = [c for c in CLI_CASES if c.id not in FAST_CLI_CASES]
  prepared = [_case_folder(tmp_path, case) for case in cases]
  results = run_commands([argv for _, argv, _ in prepared], ROOT, tmp_path / ".logs", stop_on_failure=False)
  assert len(results) == len(cases)
  failures = []
  for case, (folder, _, before), (code, _, stderr) in zip(cases, prepared, results):
    problems = _refusal_problems(case, folder, before, code, stderr)
    if problems:
      failures.append(f"{case.id}: {'; '.join(problems)}:\n{stderr[-1500:]}")
  assert not failures, "\n\n".join(failures)

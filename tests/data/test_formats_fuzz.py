"""Property: any input either loads or raises DataError, never another exception.

Generated `.ts` text, `.npz` arrays (sequences and sEMG windows), MediaPipe folders, workout
recordings and HHT file names and contents. Derandomized with a bounded number of examples,
so every run checks the same inputs in a few seconds each.
"""

from __future__ import annotations

import pathlib
import tempfile

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from research import config_file
from research import data as data_lib
from research.data import DataError
from research.data import defaults as data_defaults
from research.data import layouts
from research.data import loaders
from research.data.formats import hht_files, workout

ROOT = pathlib.Path(__file__).resolve().parents[2]
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _loads_or_data_error(call):
  """Runs `call`; a DataError is a pass, any other exception fails the property.

  Outcomes are hypothesis events (`pytest --hypothesis-show-statistics` lists how many loaded)."""
  try:
    result = call()
  except DataError as error:
    event(f"DataError {error.reason}")
    return None
  event("loaded")
  return result


def _sequence_config(name: str, path):
  config = config_file.load(ROOT / "configs" / "sign_lstm.py")
  config.data.update({"name": name, "path": str(path), "cache_dir": "", "val_fraction": 0.25,
                      "test_fraction": 0.25})
  return config


# --------------------------------------------------------------------------- arrays

DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.uint8, np.bool_, np.complex64,
                          "U3", "S2"])
ELEMENT_FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=32)


def _arrays(max_dims=4, max_side=5):
  return DTYPES.flatmap(lambda dtype: hnp.arrays(
      dtype, hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side),
      elements=ELEMENT_FLOATS if np.dtype(dtype).kind == "f" else None))


def _labels(n_max=16):
  return st.one_of(
      st.lists(st.sampled_from(["a", "b", "c", "$x$", ""]), min_size=0, max_size=n_max).map(np.array),
      st.lists(st.integers(-2, 5), min_size=0, max_size=n_max).map(lambda v: np.array(v, np.int64)),
      st.lists(st.floats(allow_nan=True, width=32), max_size=n_max).map(lambda v: np.array(v, np.float32)),
      _arrays(max_dims=2))


def _balanced(n, classes):
  return np.array([f"c{i % classes}" for i in range(n)])


DAMAGES = ("drop", "replace", "nan", "inf", "extra")


@st.composite
def sequence_npz(draw):
  """A valid x/y pair (and sometimes a test split), then up to two random damages."""
  n, t, f = draw(st.integers(6, 14)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
  classes = draw(st.sampled_from([2, 2, 3, 1]))
  x = draw(hnp.arrays(np.float32, (n, t, f), elements=st.floats(-5, 5, width=32)))
  arrays = {"x": x, "y": draw(st.sampled_from([_balanced(n, classes), np.arange(n) % classes]))}
  if draw(st.booleans()):
    k = draw(st.integers(1, 5))
    arrays["x_test"] = draw(hnp.arrays(np.float32, (k, draw(st.integers(1, 6)), draw(st.sampled_from([f, f, 1]))),
                                       elements=st.floats(-5, 5, width=32)))
    arrays["y_test"] = draw(st.sampled_from([_balanced(k, classes + 1), _balanced(k, classes)]))
  for damage in draw(st.lists(st.sampled_from(DAMAGES), max_size=2)):
    key = draw(st.sampled_from(sorted(arrays) + ["mask", "class_names", "mask_test"]))
    if damage == "drop":
      arrays.pop(key, None)
    elif damage == "replace" or key not in arrays:
      arrays[key] = draw(_arrays(max_dims=3))
    elif arrays[key].dtype.kind == "f" and arrays[key].size:
      index = tuple(draw(st.integers(0, d - 1)) for d in arrays[key].shape)
      arrays[key][index] = np.nan if damage == "nan" else np.inf
      if damage == "extra":  # a whole NaN case or frame
        arrays[key][index[0]] = np.nan
  return arrays


@FUZZ
@given(sequence_npz())
def test_npz_loader_loads_or_raises_data_error(arrays):
  with tempfile.TemporaryDirectory() as folder:
    path = pathlib.Path(folder) / "d.npz"
    np.savez(path, **arrays)
    dataset = _loads_or_data_error(lambda: data_lib.load_dataset(_sequence_config("npz", path)))
    if dataset is not None:
      assert np.isfinite(dataset.train["x"]).all() and len(dataset.meta["class_names"]) >= 2


@st.composite
def semg_npz(draw):
  """Valid windows with optional domain/subject tags, then up to two random damages."""
  n, t = draw(st.integers(4, 16)), draw(st.integers(2, 12))
  x = draw(hnp.arrays(np.float32, draw(st.sampled_from([(n, t), (n, t, 2)])), elements=st.floats(-3, 3, width=32)))
  arrays = {"x": x, "y": draw(st.sampled_from([np.arange(n) % 2, _balanced(n, 3), np.arange(n) % 3 * 2]))}
  if draw(st.booleans()):
    arrays["domain"] = np.array(["L3", "L4"] * (n // 2) + ["L3"] * (n % 2))
  if draw(st.booleans()):
    arrays["subject"] = draw(st.sampled_from([np.arange(n) % 4, np.array(["s1", "s2"] * (n // 2) + ["s1"] * (n % 2))]))
  for damage in draw(st.lists(st.sampled_from(DAMAGES), max_size=2)):
    key = draw(st.sampled_from(sorted(arrays) + ["class_names", "domain_names", "recording"]))
    if damage == "drop":
      arrays.pop(key, None)
    elif damage == "replace" or key not in arrays or arrays[key].dtype.kind != "f":
      arrays[key] = draw(_arrays(max_dims=3, max_side=6))
    else:
      arrays[key].reshape(-1)[draw(st.integers(0, arrays[key].size - 1))] = np.nan if damage == "nan" else -np.inf
  return arrays


@FUZZ
@given(semg_npz())
def test_semg_npz_loader_loads_or_raises_data_error(arrays):
  with tempfile.TemporaryDirectory() as folder:
    path = pathlib.Path(folder) / "w.npz"
    np.savez(path, **arrays)
    cfg = data_defaults.semg_data()
    cfg.update({"path": str(path), "target_domain": "L4" if "domain" in arrays else ""})
    dataset = _loads_or_data_error(lambda: loaders.load_semg(cfg, 0))
    if dataset is not None:
      assert np.isfinite(dataset.train["x"]).all() and dataset.train["x"].ndim == 3
      assert set(dataset.test["y"].tolist()) <= set(dataset.train["y"].tolist())


# --------------------------------------------------------------------------- .ts text

TOKENS = st.sampled_from(["1", "-2.5", "?", "", "nan", "inf", "1e40", "x", "3,4", " 7 "])
HEADERS = st.sampled_from(["@problemName P", "@timeStamps false", "@timeStamps true", "@univariate true",
                           "@dimensions 1", "@dimensions 2", "@dimensions two", "@equalLength false",
                           "@missing true", "@classLabel true a b", "@classLabel false", "@classLabel",
                           "@targetLabel", "@targetLabel true", "# comment", "@data", "plain words"])


GOOD_TOKENS = st.sampled_from(["1", "-2.5", "0.25", "3", "?"])


@st.composite
def ts_text(draw):
  """A valid header and cases (1-2 dimensions, labels a/b), then occasional damage."""
  dims = draw(st.integers(1, 2))
  lines = ["@problemName P", f"@dimensions {dims}", "@classLabel true a b"]
  lines += draw(st.lists(HEADERS, max_size=2)) if draw(st.integers(0, 3)) == 0 else []
  lines.append("@data")
  for i in range(draw(st.integers(4, 10))):
    values = GOOD_TOKENS if draw(st.integers(0, 6)) else TOKENS
    case = [",".join(draw(st.lists(values, min_size=1, max_size=4))) for _ in range(dims)]
    if draw(st.integers(0, 9)) == 0:
      case = case[:-1] if len(case) > 1 else case + case
    label = "ab"[i % 2] if draw(st.integers(0, 8)) else draw(st.sampled_from(["c", "", "a b"]))
    lines.append(":".join(case + [label]))
  if draw(st.integers(0, 7)) == 0:
    lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=30)))
  return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=25)
@given(ts_text(), st.one_of(st.none(), ts_text()))
def test_ts_loader_loads_or_raises_data_error(train, test):
  with tempfile.TemporaryDirectory() as folder:
    folder = pathlib.Path(folder)
    (folder / "P_TRAIN.ts").write_text(train, encoding="utf-8", errors="surrogatepass")
    if test is not None:
      (folder / "P_TEST.ts").write_text(test, encoding="utf-8", errors="surrogatepass")
    dataset = _loads_or_data_error(lambda: data_lib.load_dataset(_sequence_config("ts", folder / "P_TRAIN.ts")))
    if dataset is not None:
      assert dataset.train["x"].shape[2] == dataset.test["x"].shape[2]
      assert np.isfinite(dataset.train["x"]).all()


# --------------------------------------------------------------------------- MediaPipe folders

FRAME_KINDS = st.sampled_from(["good"] * 40 + ["short", "nan", "garbage", "text", "missing"])


def _write_frame(path: pathlib.Path, kind: str, value: float):
  if kind == "good":
    np.save(path, np.full(layouts.NUM_KEYPOINT_FEATURES, value))
  elif kind == "short":
    np.save(path, np.zeros(7))
  elif kind == "nan":
    np.save(path, np.full(layouts.NUM_KEYPOINT_FEATURES, np.nan))
  elif kind == "garbage":
    path.write_bytes(b"\x93NUMPY garbage")
  elif kind == "text":
    np.save(path, np.array(["a"] * layouts.NUM_KEYPOINT_FEATURES))


@st.composite
def mediapipe_tree(draw):
  """{action: {sequence name: [frame kinds]}}: 1-3 actions of 2-5 sequences of 3-4 frames, mostly good."""
  actions = draw(st.lists(st.sampled_from(["Hello", "Yes", "No", ".hidden", "10"]), min_size=2, max_size=3,
                          unique=True))
  names = st.sampled_from(["0", "1", "2", "3", "4", "10", "x", "01"])
  return {a: draw(st.dictionaries(names, st.lists(FRAME_KINDS, min_size=3, max_size=4), min_size=3, max_size=8))
          for a in actions}


@settings(FUZZ, max_examples=20)
@given(mediapipe_tree(), st.sampled_from([0, 3]), st.booleans())
def test_mediapipe_folder_loader_loads_or_raises_data_error(tree, frames, named_actions):
  with tempfile.TemporaryDirectory() as folder:
    root = pathlib.Path(folder) / "MP"
    root.mkdir()
    for action, sequences in tree.items():
      for name, kinds in sequences.items():
        (root / action / name).mkdir(parents=True)
        for t, kind in enumerate(kinds):
          _write_frame(root / action / name / f"{t}.npy", kind, 0.1 * t)
    config = _sequence_config("keypoints", root)
    config.data.frames = frames
    config.data.actions = tuple(tree) if named_actions else ()
    dataset = _loads_or_data_error(lambda: data_lib.load_dataset(config))
    if dataset is not None:
      assert dataset.train["x"].shape[2] == layouts.NUM_KEYPOINT_FEATURES and np.isfinite(dataset.train["x"]).all()


# --------------------------------------------------------------------------- workout recordings

@st.composite
def recording_arrays(draw):
  t = draw(st.integers(0, 40))
  arrays = {
      "angles": draw(st.one_of(hnp.arrays(np.float32, (t, 25), elements=st.floats(0, 180, width=32)),
                               hnp.arrays(np.float32, (t, 25), elements=ELEMENT_FLOATS), _arrays())),
      "fps": draw(st.one_of(st.just(np.float32(30)), _arrays(max_dims=1))),
      "exercise": draw(st.one_of(
          st.lists(st.sampled_from(["none", "squat", "dip", "lunge"]), min_size=t, max_size=t).map(np.array),
          st.lists(st.integers(-1, 3), min_size=t, max_size=t).map(np.array), _arrays(max_dims=2))),
      "rep_starts": draw(st.one_of(
          st.lists(st.integers(-3, t + 3), max_size=5).map(lambda v: np.array(v, np.int64)),
          st.lists(st.integers(0, max(t - 1, 0)), max_size=5, unique=True).map(lambda v: np.array(sorted(v))),
          _arrays(max_dims=2))),
      "class_names": draw(st.one_of(st.just(np.array(["none", "squat", "dip"])), _arrays(max_dims=2))),
      "joint_names": draw(st.one_of(st.just(np.asarray(layouts.JOINT_NAMES)), _arrays(max_dims=1))),
  }
  for key in draw(st.lists(st.sampled_from(sorted(arrays)), max_size=3, unique=True)):
    del arrays[key]
  return arrays


@FUZZ
@given(recording_arrays(), st.booleans())
def test_workout_reader_loads_or_raises_data_error(arrays, require_labels):
  with tempfile.TemporaryDirectory() as folder:
    path = pathlib.Path(folder) / "r.npz"
    np.savez(path, **arrays)
    rec = _loads_or_data_error(lambda: workout.read_recording(path, require_labels=require_labels))
    if rec is not None:
      assert rec.angles.shape[1] == 25 and np.isfinite(rec.angles).all() and rec.fps > 0
      if rec.rep_starts is not None:
        assert np.all(np.diff(rec.rep_starts) > 0) and np.all(rec.rep_starts < len(rec.angles))


# --------------------------------------------------------------------------- HHT names and files

MUSCLES = st.sampled_from(["BICEPS", "biceps", "LONG_HEAD", "X", "", "$", " "])
MOVEMENTS = st.sampled_from(["fatiguetest", "half", "Invalid", "walk", "test", "", "FATIGUETEST"])
GENDERS = st.sampled_from(["M", "f", "F", "X", "", "MF"])
NUMBERS = st.sampled_from(["001", "7", "1a", "", "٣", "²", "-1", "0" * 30])


@st.composite
def hht_names(draw):
  """MUSCLE_movement_GENDER_### names, valid or not in any part, now and then arbitrary text."""
  if draw(st.integers(0, 5)) == 0:
    stem = draw(st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), max_size=20))
  else:
    stem = "_".join([draw(MUSCLES), draw(MOVEMENTS), draw(GENDERS), draw(NUMBERS)])
  return stem[:100] + draw(st.sampled_from([".npz", ".npz", ".npz", ".NPZ", ".npy", ""]))


@FUZZ
@given(hht_names())
def test_hht_file_names_parse_or_raise_data_error(name):
  label = _loads_or_data_error(lambda: hht_files.parse_name(name))
  if label is not None:
    assert name.lower().endswith(".npz") and label.class_name in layouts.HHT_CLASSES and label.number >= 0


VALID_HHT = [f"B_{m}_{g}_{i:03d}.npz" for i, (m, g) in enumerate(
    [(m, g) for m in ("fatiguetest", "half", "invalid") for g in "MF"] * 2)]


@settings(FUZZ, max_examples=25)
@given(st.lists(st.tuples(st.one_of(hht_names(), st.sampled_from(VALID_HHT)),
                          st.sampled_from(["image"] * 30 + ["signal", "bad", "garbage", "nan"])),
                min_size=6, max_size=16))
def test_hht_loader_loads_or_raises_data_error(files):
  with tempfile.TemporaryDirectory() as folder:
    root = pathlib.Path(folder) / "hht"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name, kind in files:
      path = root / name
      if not name or name in (".", "..") or path.exists():
        continue
      if kind == "image":
        np.savez(path, hht=rng.uniform(size=(16, 16)).astype(np.float32))
      elif kind == "signal":
        np.savez(path, signal=rng.normal(size=64), fs=1000.0)
      elif kind == "bad":
        np.savez(path, hht=np.ones((4, 4)))
      elif kind == "nan":
        np.savez(path, signal=np.full(64, np.nan))
      else:
        path.write_bytes(b"garbage")
    config = config_file.load(ROOT / "configs" / "cnn_svm.py:smoke")
    config.data.update({"path": str(root), "image_size": 16, "cache_dir": ""})
    dataset = _loads_or_data_error(lambda: data_lib.load_dataset(config))
    if dataset is not None:
      assert dataset.train["x"].shape[1:] == (16, 16, 1) and np.isfinite(dataset.train["x"]).all()

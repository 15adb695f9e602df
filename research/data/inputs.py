"""Turning files a user points at into model input, the way the run's data were prepared.

`read_inputs(path)` accepts one sequence folder (<frame>.npy files of one vector each),
one `.npy`/`.npz` array ((T, F) one sequence, (N, T, F) several), or a folder of those
(searched recursively, so a whole MP_Data tree works). `prepare(...)` checks the feature
count against the run's layout, keeps the keypoint groups the model was trained on,
fills missing values and applies the run's standardisation.
"""

from __future__ import annotations

import pathlib

import numpy as np

from research.data import hht_inputs
from research.data import sequences as seq_lib
from research.data.errors import DataError, DataNotFoundError
from research.data.layouts import select_keypoint_groups

ARRAY_SUFFIXES = (".npy", ".npz")


def _frames_folder(folder: pathlib.Path) -> list[pathlib.Path] | None:
  """The frame files of a sequence folder, in order; None if `folder` is not one."""
  numbered = sorted((int(p.stem), p) for p in folder.glob("*.npy") if p.stem.isascii() and p.stem.isdigit())
  if not numbered:
    return None
  if _load(numbered[0][1]).ndim != 1:
    return None
  if [n for n, _ in numbered] != list(range(len(numbered))):
    raise DataError(f"{folder}: frame files must be numbered 0..n-1 without gaps; found "
                    f"{[n for n, _ in numbered][:10]}...; rename the frames or record the sequence again",
                    "missing_frames")
  return [p for _, p in numbered]


def _load(path: pathlib.Path) -> np.ndarray:
  """One `.npy` array; DataError for a file numpy cannot read without pickle."""
  try:
    return np.load(path, allow_pickle=False)
  except Exception as error:  # noqa: BLE001 - any unreadable file gets the same message
    raise DataError(f"{path}: cannot read as .npy ({error}); save frames with numpy.save and numbers only",
                    "unreadable") from error


def _read_array_file(path: pathlib.Path) -> list[tuple[str, np.ndarray]]:
  if path.suffix == ".npz":
    try:
      with np.load(path, allow_pickle=False) as f:
        arrays = {key: f[key] for key in f.files}
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same message
      raise DataError(f"{path}: cannot read as .npz ({error}); save inputs with numpy.savez(path, x=...)",
                      "unreadable") from error
    if "x" in arrays:
      array = arrays["x"]
    elif len(arrays) == 1:
      array = next(iter(arrays.values()))
    else:
      raise DataError(f"{path}: an .npz input needs an array named 'x' (or exactly one array); "
                      f"found {sorted(arrays)}", "missing_x")
  else:
    array = _load(path)
  if array.dtype.kind not in "fiu":
    raise DataError(f"{path}: inputs must be numbers; found dtype {array.dtype}", "wrong_dtype")
  if array.ndim == 1:
    array = array[None, :]  # a single frame
  if array.ndim == 2:
    return [(str(path), array)]
  if array.ndim == 3:
    return [(f"{path}[{i}]", a) for i, a in enumerate(array)]
  raise DataError(f"{path}: expected (frames, features) or (sequences, frames, features); "
                  f"found shape {array.shape}", "wrong_shape")


def read_inputs(path) -> list[tuple[str, np.ndarray]]:
  """[(name, (T, F) array)] for every sequence found at `path`."""
  path = pathlib.Path(path)
  if path.is_file():
    if path.suffix not in ARRAY_SUFFIXES:
      raise DataError(f"{path}: expected a .npy or .npz file, or a folder", "wrong_format")
    return _read_array_file(path)
  if not path.is_dir():
    raise DataNotFoundError(f"{path}: no such file or folder; check --input")
  frames = _frames_folder(path)
  if frames is not None:
    rows = [_load(p) for p in frames]
    if len({r.shape for r in rows}) > 1 or rows[0].dtype.kind not in "fiu":
      raise DataError(f"{path}: frames must hold equally long numeric vectors; found shapes "
                      f"{sorted({r.shape for r in rows})[:3]}", "wrong_shape")
    return [(str(path), np.stack(rows))]
  found = []
  number = lambda p: int(p.stem) if p.stem.isascii() and p.stem.isdigit() else None
  children = sorted(path.iterdir(), key=lambda p: (number(p) is None, number(p) or 0, p.name))
  for child in children:
    if child.is_dir() or child.suffix in ARRAY_SUFFIXES:
      found += read_inputs(child)
  if not found:
    raise DataError(f"{path}: no sequence folder, .npy or .npz file found in it; point --input at "
                    "recorded sequences", "empty")
  return found


def layout_text(meta: dict) -> str:
  layout = meta.get("feature_layout") or {}
  if layout.get("format") == "mediapipe_holistic":
    groups = ", ".join(f"{g['name']} {g['points']}x{g['dims']}" for g in layout["groups"])
    text = f"{layout['num_features']} values per frame ({groups}, in that order)"
    if layout["num_features"] != layout["source_num_features"]:
      text += (f", or the full MediaPipe Holistic frame of {layout['source_num_features']} values "
               f"(pose 33x4, face 468x3, left hand 21x3, right hand 21x3)")
    return text
  return f"{meta.get('num_features', layout.get('num_features'))} values per frame"


def prepare_sequence(x_TF: np.ndarray, meta: dict, name: str = "input") -> np.ndarray:
  """One raw sequence -> the (T, F) features the model takes (groups, missing values, z-score)."""
  x_TF = np.asarray(x_TF, np.float32)
  if x_TF.ndim != 2:
    raise DataError(f"{name}: expected (frames, features); found shape {x_TF.shape}", "wrong_shape")
  layout = meta.get("feature_layout") or {}
  expected = int(meta.get("num_features") or layout.get("num_features") or meta["input_shape"][-1])
  found = x_TF.shape[1]
  if layout.get("format") == "mediapipe_holistic" and found == layout["source_num_features"] != expected:
    index, _ = select_keypoint_groups(layout["keypoint_groups"])  # the groups the model was trained on
    x_TF = x_TF[:, index]
  elif found != expected:
    raise DataError(f"{name}: {found} values per frame, but this model expects {layout_text(meta)}. "
                    f"Record the input with the same keypoint layout the model was trained on.", "wrong_shape")
  x_TF, _, _ = seq_lib.fill_missing(x_TF, name)
  if len(x_TF) == 0:
    raise DataError(f"{name}: no frame with any value; record the sequence again", "empty")
  if meta.get("standardize"):
    x_TF = seq_lib.standardize(x_TF[None], None, meta["standardize"])[0]
  return x_TF


def prepare(named: list[tuple[str, np.ndarray]], meta: dict) -> dict[str, np.ndarray]:
  """Several raw sequences -> {'x': (N, T, F), 'mask': (N, T)} padded to the longest."""
  if not named:
    raise DataError("no input sequences; point --input at a sequence folder, .npy or .npz", "empty")
  x, mask = seq_lib.pad([prepare_sequence(x_TF, meta, name) for name, x_TF in named])
  return {"x": x, "mask": mask}


def _hht_files(path) -> list[tuple[str, dict]]:
  """HHT runs take .npz files holding `hht` or `signal` (+ `fs`): one file, or a folder of them."""
  path = pathlib.Path(path)
  if path.is_file():
    return [path]
  if path.is_dir():
    paths = sorted(p for p in path.iterdir() if p.suffix.lower() == ".npz" and p.is_file())
    if not paths:
      raise FileNotFoundError(f"No .npz files found in {str(path)!r}; give HHT .npz files or a folder of them")
    return paths
  raise FileNotFoundError(f"--input {str(path)!r} is neither a .npz file nor a folder")


def read_for_prediction(path, data_config, meta: dict) -> tuple[list[str], dict[str, np.ndarray]]:
  """(names, {'x', maybe 'mask'}) for the files at `path`, prepared as the run's data were."""
  if data_config.name == "hht_files":
    paths = _hht_files(path)  # the HHT needs its own reader (image from signal)
    return [p.name for p in paths], {"x": hht_inputs.read_inputs(paths, data_config)}
  named = read_inputs(path)
  return [name for name, _ in named], prepare(named, meta)

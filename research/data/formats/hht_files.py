"""sEMG Hilbert-Huang files: a folder of `MUSCLE_movement_GENDER_###.npz` files.

Labels come from the file name: gender M/F and movement `fatiguetest` (full),
`half` or `invalid` give six classes, ids as in the seed's table:
  0 M_full  1 M_half  2 M_invalid  3 F_full  4 F_half  5 F_invalid
Movement and gender are read case-insensitively; the muscle may itself contain
underscores (the name is read from the right); ### is one or more digits.

A file whose name contains 'test' outside the movement word 'fatiguetest'
(`BICEPS_test_001.npz`) is held out: never trained on, predicted after training.
Other names that do not parse are skipped and listed in meta['skipped'].

Each file holds `hht` (time x frequency amplitude image) or `signal` (1-D, with
`fs` in Hz, else data.sampling_rate) from which the loader computes the image.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import numpy as np

from research.data import skipped as skipped_lib
from research.data.errors import DataError, DataNotFoundError
from research.data.formats.npz import read_npz
from research.data.layouts import GENDERS, HHT_CLASSES, MOVEMENTS

NO_FILES = "No .npz files found"
NO_TRAINING_FILES = "No valid training files found"


@dataclasses.dataclass(frozen=True)
class FileLabel:
  """What a training file's name says."""
  muscle: str
  movement: str  # full | half | invalid
  gender: str  # M | F
  number: int

  @property
  def class_name(self) -> str:
    return f"{self.gender}_{self.movement}"

  @property
  def label(self) -> int:
    return HHT_CLASSES.index(self.class_name)


def is_test_file(filename: str) -> bool:
  """True when 'test' appears in the name other than inside the movement 'fatiguetest'."""
  stem = pathlib.Path(filename).name.lower().removesuffix(".npz")
  return "test" in "_".join(part for part in stem.split("_") if part != "fatiguetest")


def parse_name(filename: str) -> FileLabel:
  """Reads MUSCLE_movement_GENDER_###(.npz); DataError saying what is wrong otherwise."""
  name = pathlib.Path(filename).name
  if not name.lower().endswith(".npz"):
    raise DataError(f"{name}: not a .npz file", "unparsed_name")
  parts = name[:-4].split("_")
  if len(parts) < 4 or not all(parts):
    raise DataError(f"{name}: expected MUSCLE_movement_GENDER_###", "unparsed_name")
  muscle, movement, gender, number = "_".join(parts[:-3]), *parts[-3:]
  if movement.lower() not in MOVEMENTS:
    raise DataError(f"{name}: movement {movement!r} is not one of {sorted(MOVEMENTS)}", "unparsed_name")
  if gender.upper() not in GENDERS:
    raise DataError(f"{name}: gender {gender!r} is not M or F", "unparsed_name")
  if not re.fullmatch(r"[0-9]+", number):
    raise DataError(f"{name}: number {number!r} is not digits", "unparsed_name")
  return FileLabel(muscle, MOVEMENTS[movement.lower()], gender.upper(), int(number))


def scan(data_dir) -> tuple[list[tuple[pathlib.Path, FileLabel]], list[pathlib.Path], list[dict]]:
  """(labelled training files, held-out test files, skipped items), sorted by name.

  Skipped items are `research.data.skipped` records of the names that do not parse.
  """
  data_dir = pathlib.Path(data_dir)
  if not data_dir.is_dir():
    raise DataNotFoundError(f"{NO_FILES}: data directory {str(data_dir)!r} does not exist "
                            "(config.data.path); make one with launch/make_data.py hht --out DIR, or "
                            "leave data.path empty for the embedded synthetic files")
  paths = sorted(p for p in data_dir.iterdir() if p.suffix.lower() == ".npz" and p.is_file())
  if not paths:
    raise DataNotFoundError(f"{NO_FILES} in {str(data_dir)!r}; expected MUSCLE_movement_GENDER_###.npz "
                            "files (config.data.path)", "empty")
  labelled, held_out, skipped = [], [], []
  for path in paths:
    if is_test_file(path.name):
      held_out.append(path)
      continue
    try:
      labelled.append((path, parse_name(path.name)))
    except DataError as error:
      skipped.append(skipped_lib.item(path.name, error.reason, f"{error}; rename it "
                                      "MUSCLE_movement_GENDER_###.npz to use it"))
  return labelled, held_out, skipped


@dataclasses.dataclass(frozen=True)
class HHTFile:
  """One file's contents: its stored image, or its signal and sampling rate (Hz)."""
  image: np.ndarray | None = None  # (size, size) float32 amplitudes
  signal: np.ndarray | None = None  # (N,) float64
  sampling_rate: float | None = None


def read_file(path, size: int, default_rate: float) -> HHTFile:
  """Reads and checks one file: `hht` must be (size, size) amplitudes >= 0; `signal` a 1-D finite
  series of at least `size` samples with `fs` (else `default_rate`, config.data.sampling_rate) > 0."""
  path = pathlib.Path(path)
  arrays = read_npz(path, "save it with numpy.savez(path, hht=image) or numpy.savez(path, signal=x, fs=rate)")
  if "hht" in arrays:
    image = np.asarray(arrays["hht"])
    if image.shape != (size, size) or image.dtype.kind not in "fiu":
      raise DataError(f"{path}: key 'hht' has shape {image.shape}, dtype {image.dtype}; expected "
                      f"({size}, {size}) numbers (config.data.image_size). Set data.image_size to match "
                      "or store 'signal'", "wrong_shape")
    image = image.astype(np.float32)
    if not np.isfinite(image).all() or (image < 0).any():
      raise DataError(f"{path}: key 'hht' holds {int((~np.isfinite(image)).sum())} NaN/Inf and "
                      f"{int((image < 0).sum())} negative values; an HHT image holds amplitudes >= 0. "
                      "Recompute it or store 'signal'", "non_finite")
    return HHTFile(image=image)
  if "signal" not in arrays:
    raise DataError(f"{path}: expected key 'hht' ({size} x {size}) or 'signal' (+ 'fs'); "
                    f"found {sorted(arrays)}", "missing_key")
  signal_N = np.asarray(arrays["signal"])
  if signal_N.ndim != 1 or signal_N.dtype.kind not in "fiu":
    raise DataError(f"{path}: 'signal' must be a 1-D series of numbers; found shape {signal_N.shape}, "
                    f"dtype {signal_N.dtype}. Store one channel per file", "wrong_shape")
  signal_N = signal_N.astype(np.float64)
  if not np.isfinite(signal_N).all():
    raise DataError(f"{path}: 'signal' holds {int((~np.isfinite(signal_N)).sum())} NaN/Inf samples; fill "
                    "or cut the gaps before saving", "non_finite")
  if len(signal_N) < size:
    raise DataError(f"{path}: 'signal' has {len(signal_N)} samples, fewer than the {size} time bins of "
                    "config.data.image_size; record longer signals or lower data.image_size", "too_short")
  fs = np.asarray(arrays["fs"]) if "fs" in arrays else np.asarray(default_rate)
  if fs.size != 1 or fs.dtype.kind not in "fiu" or not np.isfinite(fs).all() or not float(fs.reshape(())) > 0:
    raise DataError(f"{path}: the sampling rate ('fs' in the file, else config.data.sampling_rate) must be "
                    f"one positive number in Hz; found {fs.tolist()!r}", "bad_fs")
  return HHTFile(signal=signal_N, sampling_rate=float(fs.reshape(())))


def write_image(path, image) -> pathlib.Path:
  """Writes a stored-image file (key `hht`)."""
  np.savez(path, hht=image)
  return pathlib.Path(path)


def write_signal(path, signal_N, sampling_rate: float) -> pathlib.Path:
  """Writes a raw-signal file (keys `signal` and `fs`)."""
  np.savez(path, signal=signal_N, fs=np.float64(sampling_rate))
  return pathlib.Path(path)

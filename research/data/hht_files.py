"""sEMG Hilbert-Huang images from a folder of `MUSCLE_movement_GENDER_###.npz` files.

Labels come from the file name: gender M/F and movement `fatiguetest` (full),
`half` or `invalid` give six classes, ids as in the seed's table:
  0 M_full  1 M_half  2 M_invalid  3 F_full  4 F_half  5 F_invalid
Movement and gender are read case-insensitively; the muscle may itself contain
underscores (the name is read from the right); ### is one or more digits.

A file whose name contains 'test' outside the movement word 'fatiguetest'
(`BICEPS_test_001.npz`) is held out: never trained on, predicted after training.
Other names that do not parse are skipped and listed in meta['skipped'].

Each file holds `hht` (time x frequency amplitude image) or `signal` (1-D, with
`fs` in Hz, else data.sampling_rate) from which the image is computed and cached.
With data.path empty the loader reads the synthetic files of `research.data.synthetic.hht`,
generated once into the data cache.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

import numpy as np

from research.data import cache
from research.data import dataset as dataset_lib
from research.data import hht
from research.data import skipped as skipped_lib
from research.data.errors import DataError, DataNotFoundError, read_npz

CLASS_NAMES = ("M_full", "M_half", "M_invalid", "F_full", "F_half", "F_invalid")
GENDERS = ("M", "F")
MOVEMENTS = {"fatiguetest": "full", "half": "half", "invalid": "invalid"}

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
    return CLASS_NAMES.index(self.class_name)


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


def settings_from_config(cfg) -> hht.HHTSettings:
  return hht.HHTSettings(time_bins=cfg.image_size, freq_bins=cfg.image_size,
                         freq_min=cfg.freq_min, freq_max=cfg.freq_max, max_imf=cfg.max_imf)


def read_image(path, cfg) -> np.ndarray:
  """The (image_size, image_size) HHT image of one file: its `hht`, or the HHT of its `signal`
  (kept in the data cache under the file's bytes and the HHT settings)."""
  path = pathlib.Path(path)
  size = cfg.image_size
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
    return image
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
  fs = np.asarray(arrays["fs"]) if "fs" in arrays else np.asarray(cfg.sampling_rate)
  if fs.size != 1 or fs.dtype.kind not in "fiu" or not np.isfinite(fs).all() or not float(fs.reshape(())) > 0:
    raise DataError(f"{path}: the sampling rate ('fs' in the file, else config.data.sampling_rate) must be "
                    f"one positive number in Hz; found {fs.tolist()!r}", "bad_fs")
  sampling_rate = float(fs.reshape(()))
  settings = settings_from_config(cfg)
  try:
    settings.frequency_range(sampling_rate)
  except ValueError as error:
    raise DataError(f"{path}: {error}", "bad_fs") from None
  return hht.cached_hht_image(path, signal_N, sampling_rate, settings, cfg.get("cache_dir", ""))


def model_input(images_NTF: np.ndarray, log_scale: bool) -> np.ndarray:
  """Images -> network input (N, T, F, 1): each divided by its mean, then log1p if asked.

  Per-image scaling keeps recordings of different gain comparable; log1p tames the
  few cells that hold most of the amplitude.
  """
  images_NTF = np.asarray(images_NTF, np.float32)
  mean_N = images_NTF.mean(axis=(1, 2), keepdims=True)
  x = images_NTF / np.maximum(mean_N, 1e-12)
  if log_scale:
    x = np.log1p(x)
  return x[..., None].astype(np.float32)


def read_inputs(paths, cfg) -> np.ndarray:
  """Network inputs (N, T, F, 1) for a list of files."""
  if not paths:
    return np.zeros((0, cfg.image_size, cfg.image_size, 1), np.float32)
  return model_input(np.stack([read_image(p, cfg) for p in paths]), cfg.log_scale)


def synthetic_folder(cfg) -> pathlib.Path:
  """The embedded synthetic files of `cfg.synthetic` at `cfg.image_size`, generated once into the cache."""
  from research.data.synthetic import hht as synthetic  # It reads this module's labels.
  options = {**_as_dict(cfg.synthetic), "image_size": int(cfg.image_size)}
  settings = {"generator": "hht", "version": synthetic.VERSION, "hht_version": hht.HHT_VERSION,
              "options": options}
  return cache.cached_folder(cfg.get("cache_dir", ""), "hht_synthetic", settings,
                             lambda folder: synthetic.generate(str(folder), **options))


def _as_dict(value) -> dict:
  return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def data_folder(cfg) -> pathlib.Path:
  """`config.data.path`, or the embedded synthetic files when it is empty."""
  return pathlib.Path(cfg.path) if cfg.path else synthetic_folder(cfg)


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """Stratified train/val split (data.val_fraction, data.split_seed) of the labelled files;
  test = held-out files.

  Splits carry `file_index` into meta['files'] (train/val) or meta['test_files'] (test);
  test labels are -1 (unknown).
  """
  folder = data_folder(cfg)
  labelled, held_out, skipped = scan(folder)
  if not labelled:
    raise DataError(f"{NO_TRAINING_FILES} in {str(folder)!r}: {len(held_out)} test file(s), "
                    f"{len(skipped)} skipped ({[s['item'] for s in skipped[:5]]}...). Training files "
                    "must be named MUSCLE_movement_GENDER_###.npz without 'test'.", "empty")
  files = [p.name for p, _ in labelled]
  labels = np.array([lab.label for _, lab in labelled], np.int32)
  everything = {"x": read_inputs([p for p, _ in labelled], cfg), "y": labels,
                "file_index": np.arange(len(labelled), dtype=np.int32)}
  counts = np.bincount(labels, minlength=len(CLASS_NAMES))
  if np.count_nonzero(counts) < 2:
    raise DataError(f"{folder}: every training file is of class {CLASS_NAMES[int(labels[0])]!r}; a "
                    "classifier needs files of at least two classes", "single_class")
  train, val = dataset_lib.stratified_if_possible(everything, cfg.val_fraction, dataset_lib.split_seed(cfg, seed),
                                                  str(folder), "validation")
  stratify = dataset_lib.can_stratify(labels, cfg.val_fraction)
  test = {"x": read_inputs(held_out, cfg), "y": np.full(len(held_out), -1, np.int32),
          "file_index": np.arange(len(held_out), dtype=np.int32)}
  meta = {
      "source": f"HHT images from {folder}" + ("" if cfg.path else " (embedded synthetic files)"),
      "class_names": list(CLASS_NAMES),
      "class_counts": {name: int(c) for name, c in zip(CLASS_NAMES, counts)},
      "feature_layout": ["time_bin", "frequency_bin", "log1p(amplitude / image mean)"
                         if cfg.log_scale else "amplitude / image mean"],
      "sampling_rate": float(cfg.sampling_rate),
      "files": files,
      "test_files": [p.name for p in held_out],
      "skipped": skipped,
      "split": "stratified" if stratify else "random (too few files per class to stratify)",
  }
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)

"""sEMG Hilbert-Huang images from a folder of `MUSCLE_movement_GENDER_###.npz` files.

Labels come from the file name: gender M/F and movement `fatiguetest` (full),
`half` or `invalid` give six classes, ids as in the seed's table:
  0 M_full  1 M_half  2 M_invalid  3 F_full  4 F_half  5 F_invalid
Movement and gender are read case-insensitively; the muscle may itself contain
underscores (the name is read from the right); ### is one or more digits.

A file whose name contains 'test' outside the movement word 'fatiguetest'
(`BICEPS_test_001.npz`) is held out: never trained on, predicted after training.
Other names that do not parse are skipped and listed in meta['skipped_files'].

Each file holds `hht` (time x frequency amplitude image) or `signal` (1-D, with
`fs` in Hz, else data.sampling_rate) from which the image is computed and cached.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re

import numpy as np

from research.data import dataset as dataset_lib
from research.data import hht

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
  """Reads MUSCLE_movement_GENDER_###(.npz); ValueError saying what is wrong otherwise."""
  name = pathlib.Path(filename).name
  if not name.lower().endswith(".npz"):
    raise ValueError("not a .npz file")
  parts = name[:-4].split("_")
  if len(parts) < 4 or not all(parts):
    raise ValueError("expected MUSCLE_movement_GENDER_###")
  muscle, movement, gender, number = "_".join(parts[:-3]), *parts[-3:]
  if movement.lower() not in MOVEMENTS:
    raise ValueError(f"movement {movement!r} is not one of {sorted(MOVEMENTS)}")
  if gender.upper() not in GENDERS:
    raise ValueError(f"gender {gender!r} is not M or F")
  if not re.fullmatch(r"[0-9]+", number):
    raise ValueError(f"number {number!r} is not digits")
  return FileLabel(muscle, MOVEMENTS[movement.lower()], gender.upper(), int(number))


def scan(data_dir) -> tuple[list[tuple[pathlib.Path, FileLabel]], list[pathlib.Path], list[dict]]:
  """(labelled training files, held-out test files, skipped [{file, reason}]), sorted by name."""
  data_dir = pathlib.Path(data_dir)
  if not data_dir.is_dir():
    raise FileNotFoundError(f"{NO_FILES}: data directory {str(data_dir)!r} does not exist "
                            "(config.data.data_dir); make one with launch/make_data.py hht --out DIR")
  paths = sorted(p for p in data_dir.iterdir() if p.suffix.lower() == ".npz" and p.is_file())
  if not paths:
    raise FileNotFoundError(f"{NO_FILES} in {str(data_dir)!r}; expected MUSCLE_movement_GENDER_###.npz "
                            "files (config.data.data_dir)")
  labelled, held_out, skipped = [], [], []
  for path in paths:
    if is_test_file(path.name):
      held_out.append(path)
      continue
    try:
      labelled.append((path, parse_name(path.name)))
    except ValueError as error:
      skipped.append({"file": path.name, "reason": str(error)})
  return labelled, held_out, skipped


def settings_from_config(cfg) -> hht.HHTSettings:
  return hht.HHTSettings(time_bins=cfg.image_size, freq_bins=cfg.image_size,
                         freq_min=cfg.freq_min, freq_max=cfg.freq_max, max_imf=cfg.max_imf)


def read_image(path, cfg) -> np.ndarray:
  """The (image_size, image_size) HHT image of one file: its `hht`, or the HHT of its `signal`."""
  path = pathlib.Path(path)
  size = cfg.image_size
  with np.load(path, allow_pickle=False) as stored:
    keys = set(stored.files)
    if "hht" in keys:
      image = np.asarray(stored["hht"], np.float32)
      if image.shape != (size, size):
        raise ValueError(f"{path}: key 'hht' has shape {image.shape}; expected ({size}, {size}) "
                         "(config.data.image_size). Set data.image_size to match or store 'signal'.")
      return image
    if "signal" not in keys:
      raise ValueError(f"{path}: expected key 'hht' ({size} x {size}) or 'signal' (+ 'fs'); "
                       f"found {sorted(keys)}")
    sampling_rate = float(stored["fs"]) if "fs" in keys else float(cfg.sampling_rate)
    if not sampling_rate > 0:
      raise ValueError(f"{path}: holds 'signal' but no 'fs'; store 'fs' (Hz) in the file or set "
                       "config.data.sampling_rate")
    signal_N = np.asarray(stored["signal"], np.float64)
  return hht.cached_hht_image(path, signal_N, sampling_rate, settings_from_config(cfg),
                              cfg.cache_dir or None)


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


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """Stratified train/val split (data.val_fraction) of the labelled files; test = held-out files.

  Splits carry `file_index` into meta['files'] (train/val) or meta['test_files'] (test);
  test labels are -1 (unknown).
  """
  labelled, held_out, skipped = scan(cfg.data_dir)
  if not labelled:
    raise ValueError(f"{NO_TRAINING_FILES} in {str(cfg.data_dir)!r}: {len(held_out)} test file(s), "
                     f"{len(skipped)} skipped ({[s['file'] for s in skipped[:5]]}...). Training files "
                     "must be named MUSCLE_movement_GENDER_###.npz without 'test'.")
  files = [p.name for p, _ in labelled]
  labels = np.array([lab.label for _, lab in labelled], np.int32)
  everything = {"x": read_inputs([p for p, _ in labelled], cfg), "y": labels,
                "file_index": np.arange(len(labelled), dtype=np.int32)}
  counts = np.bincount(labels, minlength=len(CLASS_NAMES))
  stratify = bool(counts[counts > 0].min() >= 2)
  train, val = dataset_lib.random_split(everything, cfg.val_fraction, seed, stratify=stratify)
  test = {"x": read_inputs(held_out, cfg), "y": np.full(len(held_out), -1, np.int32),
          "file_index": np.arange(len(held_out), dtype=np.int32)}
  meta = {
      "source": f"HHT images from {cfg.data_dir}",
      "class_names": list(CLASS_NAMES),
      "class_counts": {name: int(c) for name, c in zip(CLASS_NAMES, counts)},
      "feature_layout": ["time_bin", "frequency_bin", "log1p(amplitude / image mean)"
                         if cfg.log_scale else "amplitude / image mean"],
      "sampling_rate": float(cfg.sampling_rate),
      "files": files,
      "test_files": [p.name for p in held_out],
      "skipped": {"unparsed_names": len(skipped)},
      "skipped_files": skipped,
      "split": "stratified" if stratify else "random (a class has fewer than 2 files)",
  }
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)


# --- Synthetic data --------------------------------------------------------------------------

_MUSCLES = ("BICEPS", "TRICEPS", "FOREARM", "DELTOID")


def synthetic_signal(label: int, rng: np.random.Generator, sampling_rate: float = 1000.0,
                     num_samples: int = 2048) -> np.ndarray:
  """A surface-EMG-like signal of class `label`.

  Gender sets the spectrum (male centre ~80 Hz, female ~115 Hz, overlapping spread);
  movement sets the envelope: full = sustained contraction whose frequencies fall by
  ~25% (fatigue), half = one contraction over about half the record, invalid = a few
  short irregular bursts over broadband noise.
  """
  gender, movement = CLASS_NAMES[label].split("_")
  t = np.arange(num_samples) / sampling_rate
  duration = num_samples / sampling_rate
  centre = rng.normal(80.0 if gender == "M" else 115.0, 10.0)
  drift = {"full": 0.25, "half": 0.05, "invalid": 0.0}[movement]
  freqs_K = np.clip(centre * (1 + 0.25 * rng.standard_normal(12)), 15.0, sampling_rate / 2.5)
  amps_K = rng.rayleigh(1.0, 12) / 12 ** 0.5
  phase_KN = 2 * np.pi * freqs_K[:, None] * (t - drift * t ** 2 / (2 * duration))[None]
  carrier = (amps_K[:, None] * np.sin(phase_KN + rng.uniform(0, 2 * np.pi, 12)[:, None])).sum(0)
  if movement == "full":
    envelope = np.clip(t / 0.2, 0, 1) * rng.uniform(0.8, 1.2)
  elif movement == "half":
    start = rng.uniform(0.1, 0.4) * duration
    envelope = 0.8 * np.exp(-0.5 * ((t - start - 0.25 * duration) / (0.12 * duration)) ** 4)
  else:
    envelope = np.zeros_like(t)
    for _ in range(rng.integers(3, 7)):
      onset, width = rng.uniform(0, duration), rng.uniform(0.03, 0.12)
      envelope += rng.uniform(0.4, 1.2) * ((t >= onset) & (t < onset + width))
  noise = rng.normal(0.0, 0.3 if movement == "invalid" else 0.05, num_samples)
  return (envelope * carrier + noise).astype(np.float32)


def generate(out_dir: str, n_samples: int = 30, n_test: int = 8, sampling_rate: float = 1000.0,
             num_samples: int = 2048, image_size: int = 256, store: str = "hht", seed: int = 0) -> None:
  """Writes n_samples files per class plus n_test held-out `MUSCLE_test_###.npz` files.

  store='hht' saves the image (key `hht`, image_size square, full frequency range);
  store='signal' saves the raw `signal` and `fs`. The held-out files' true classes
  go to `test_labels.json` (not read by the loader) so predictions can be checked.
  """
  if store not in ("hht", "signal"):
    raise ValueError(f"make_data hht: --store must be 'hht' or 'signal'; found {store!r}")
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(seed)
  settings = hht.HHTSettings(time_bins=image_size, freq_bins=image_size)

  def write(name, label):
    signal_N = synthetic_signal(label, rng, sampling_rate, num_samples)
    if store == "hht":
      np.savez(out / name, hht=hht.hht_image(signal_N, sampling_rate, settings))
    else:
      np.savez(out / name, signal=signal_N, fs=np.float64(sampling_rate))

  number = 0
  for label, class_name in enumerate(CLASS_NAMES):
    gender, movement = class_name.split("_")
    word = {v: k for k, v in MOVEMENTS.items()}[movement]
    for _ in range(n_samples):
      number += 1
      write(f"{_MUSCLES[number % len(_MUSCLES)]}_{word}_{gender}_{number:03d}.npz", label)
  truth = {}
  for index in range(1, n_test + 1):
    label = int(rng.integers(len(CLASS_NAMES)))
    name = f"{_MUSCLES[index % len(_MUSCLES)]}_test_{index:03d}.npz"
    write(name, label)
    truth[name] = CLASS_NAMES[label]
  (out / "test_labels.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
  print(f"Wrote {n_samples * len(CLASS_NAMES)} training and {n_test} test files to {out}")

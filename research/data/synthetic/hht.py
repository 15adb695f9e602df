"""Synthetic sEMG recordings in the `MUSCLE_movement_GENDER_###.npz` layout `research.data.formats.hht_files`
reads (`launch/make_data.py hht`), stored as HHT images or as raw signals."""

from __future__ import annotations

import json
import pathlib

import numpy as np

from research.data import hht
from research.data.errors import DataError
from research.data.formats.hht_files import write_image, write_signal
from research.data.layouts import HHT_CLASSES, MOVEMENTS

# Bump when the generated data change, so cached folders are made again; stored images also
# change with the transform's version.
VERSION = (1, hht.HHT_VERSION)

_MUSCLES = ("BICEPS", "TRICEPS", "FOREARM", "DELTOID")


def synthetic_signal(label: int, rng: np.random.Generator, sampling_rate: float = 1000.0,
                     num_samples: int = 2048) -> np.ndarray:
  """A surface-EMG-like signal of class `label`.

  Gender sets the spectrum (male centre ~80 Hz, female ~115 Hz, overlapping spread);
  movement sets the envelope: full = sustained contraction whose frequencies fall by
  ~25% (fatigue), half = one contraction over about half the record, invalid = a few
  short irregular bursts over broadband noise.
  """
  gender, movement = HHT_CLASSES[label].split("_")
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
             num_samples: int = 2048, image_size: int = 256, store: str = "hht", seed: int = 0
             ) -> pathlib.Path:
  """Writes n_samples files per class plus n_test held-out `MUSCLE_test_###.npz` files.

  store='hht' saves the image (key `hht`, image_size square, full frequency range);
  store='signal' saves the raw `signal` and `fs`. The held-out files' true classes
  go to `test_labels.json` (not read by the loader) so predictions can be checked.
  """
  if store not in ("hht", "signal"):
    raise DataError(f"make_data hht: --store must be 'hht' or 'signal'; found {store!r}", "bad_option")
  if n_samples < 1 or n_test < 0 or not sampling_rate > 0 or image_size < 1 or num_samples < image_size:
    raise DataError(f"make_data hht: need n_samples >= 1, n_test >= 0, sampling_rate > 0 and "
                    f"num_samples >= image_size >= 1; got n_samples={n_samples}, n_test={n_test}, "
                    f"sampling_rate={sampling_rate}, image_size={image_size}, num_samples={num_samples}",
                    "bad_option")
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(seed)
  settings = hht.HHTSettings(time_bins=image_size, freq_bins=image_size)

  def write(name, label):
    signal_N = synthetic_signal(label, rng, sampling_rate, num_samples)
    if store == "hht":
      write_image(out / name, hht.hht_image(signal_N, sampling_rate, settings))
    else:
      write_signal(out / name, signal_N, sampling_rate)

  number = 0
  for label, class_name in enumerate(HHT_CLASSES):
    gender, movement = class_name.split("_")
    word = {v: k for k, v in MOVEMENTS.items()}[movement]
    for _ in range(n_samples):
      number += 1
      write(f"{_MUSCLES[number % len(_MUSCLES)]}_{word}_{gender}_{number:03d}.npz", label)
  truth = {}
  for index in range(1, n_test + 1):
    label = int(rng.integers(len(HHT_CLASSES)))
    name = f"{_MUSCLES[index % len(_MUSCLES)]}_test_{index:03d}.npz"
    write(name, label)
    truth[name] = HHT_CLASSES[label]
  (out / "test_labels.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
  return out

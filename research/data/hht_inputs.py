"""HHT files -> network input: each file's image (stored, or the HHT of its signal, cached per
file in the data cache), scaled per image. Used by the HHT loader and by prediction."""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib

import numpy as np

from research.data import hht
from research.data import sources
from research.data.errors import DataError
from research.data.formats import hht_files


def settings_from_config(cfg) -> hht.HHTSettings:
  return hht.HHTSettings(time_bins=cfg.image_size, freq_bins=cfg.image_size,
                         freq_min=cfg.freq_min, freq_max=cfg.freq_max, max_imf=cfg.max_imf)


def cached_hht_image(path, signal_N, sampling_rate: float, settings: hht.HHTSettings, cache_dir) -> np.ndarray:
  """`hht.hht_image` of the signal stored in `path`, one entry per file in the data cache.

  The key covers the file's bytes, the sampling rate, the settings and the HHT and EMD versions,
  so an edited recording is recomputed while the others are read back; an empty cache_dir
  computes every time.
  """
  if not cache_dir:
    return hht.hht_image(signal_N, sampling_rate, settings)
  key = {"content": hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest(), "fs": float(sampling_rate),
         "settings": dataclasses.asdict(settings), "hht_version": hht.HHT_VERSION, "emd": hht.emd_version()}
  stored = sources.cached_arrays(cache_dir, "hht_image", key,
                                 lambda: {"image": hht.hht_image(signal_N, sampling_rate, settings)})
  return stored["image"]


def image(path, cfg) -> np.ndarray:
  """The (image_size, image_size) HHT image of one file: its `hht`, or the HHT of its `signal`."""
  stored = hht_files.read_file(path, cfg.image_size, cfg.sampling_rate)
  if stored.image is not None:
    return stored.image
  settings = settings_from_config(cfg)
  try:
    settings.frequency_range(stored.sampling_rate)
  except ValueError as error:
    raise DataError(f"{path}: {error}", "bad_fs") from None
  return cached_hht_image(path, stored.signal, stored.sampling_rate, settings, cfg.get("cache_dir", ""))


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
  """Network inputs (N, T, F, 1) for a list of HHT files."""
  if not paths:
    return np.zeros((0, cfg.image_size, cfg.image_size, 1), np.float32)
  return model_input(np.stack([image(p, cfg) for p in paths]), cfg.log_scale)

"""Single-channel (or multichannel) sEMG windows: readers, normalisation, splits.

Three sources make the same `Dataset` (x (N, T, C) float32, y (N,) int32, plus
`domain` and `subject` int32 when known):
  * `.npz` arrays: `x` (N, T) or (N, T, C), `y` (N,) ints or strings; optional
    `domain` (N,) names or ints (e.g. the seed's "L3"/"L4"), `subject`,
    `recording` (ids for per-recording normalisation), `class_names`,
    `domain_names`.
  * a folder of continuous recordings (`.npy` (T,) / (T, C), or `.csv` with one
    column per channel and an optional header row) listed in a CSV manifest
    with columns `file,label` and optional `domain`, `subject`, `start`, `end`
    (samples; a row labels that part of the recording), cut into windows of
    `window` samples every `stride` samples.
  * the embedded generator (no path), `research.data.synthetic.semg`.

Manifest files must lie inside the folder (`config.data.allow_outside_paths` allows
others); NaN/Inf samples are an error (sEMG has no repair for missing samples).

Splits: with a domain tag and `target_domain` set, train/val come from the
source domain (stratified) and test is the target domain (transfer); otherwise a
stratified test split, then a stratified validation split.
"""

from __future__ import annotations

import csv
import os
import pathlib

import numpy as np

from research.data import dataset as dataset_lib
from research.data import skipped as skipped_lib
from research.data import errors as errors_lib
from research.data.errors import DataError, DataNotFoundError

NORMALIZE = ("none", "recording", "window")


# --------------------------------------------------------------------------- readers


def _codes(values, names=None, what="labels", where=""):
  """Maps strings or ints to int codes; returns (codes int32, names list[str]).

  Ints index `names`; without names they must run 0..C-1 with every value present, so no class
  exists without an example. Strings map to `names` or, without, to their sorted distinct values.
  """
  values = np.asarray(values)
  if values.ndim != 1:
    raise DataError(f"{where}: {what} must be one value per window (N,); found shape {values.shape}",
                    f"bad_{what}")
  if values.dtype.kind == "f" and values.size and np.isfinite(values).all() and np.all(values == np.round(values)):
    values = values.astype(np.int64)
  if values.dtype.kind in "iu":
    if names is None:
      present = np.unique(values)
      if present.size and (present[0] != 0 or present[-1] != present.size - 1):
        missing = sorted(set(range(min(int(present[-1]) + 1, present.size + 10))) - set(present.tolist()))[:5]
        raise DataError(f"{where}: integer {what} must run 0..C-1 with every value present; found "
                        f"{present.size} distinct values from {present[0]} to {present[-1]} "
                        f"(missing e.g. {missing}). Renumber them or store names", f"bad_{what}")
      names = [str(v) for v in range(present.size)]
    if values.size and (values.min() < 0 or values.max() >= len(names)):
      raise DataError(f"{where}: {what} must lie in 0..{len(names) - 1} to match the names "
                      f"{list(names)}; found {values.min()}..{values.max()}. Fix the {what} or the names",
                      f"bad_{what}")
    return values.astype(np.int32), [str(n) for n in names]
  if values.dtype.kind not in "US":
    raise DataError(f"{where}: {what} must be integers or strings; found dtype {values.dtype}",
                    f"bad_{what}")
  strings = values.astype(str)
  if names is None:
    names = sorted(set(strings.tolist()))
  names = [str(n) for n in names]
  lookup = {n: i for i, n in enumerate(names)}
  unknown = sorted(set(strings.tolist()) - set(lookup))
  if unknown:
    raise DataError(f"{where}: {what} {unknown[:5]} are not among the names {names}; "
                    f"add them to the names or fix the data", f"unknown_{what}")
  return np.array([lookup[s] for s in strings], np.int32), names


def _ids(values, what: str, where: str) -> np.ndarray:
  """Group ids (subject, recording) as int32: non-negative ints kept, strings numbered in sorted order."""
  values = np.asarray(values)
  if values.ndim != 1:
    raise DataError(f"{where}: {what} must be one id per window (N,); found shape {values.shape}",
                    f"bad_{what}")
  if values.dtype.kind in "iu":
    if values.size and (values.min() < 0 or values.max() > np.iinfo(np.int32).max):
      raise DataError(f"{where}: {what} ids must lie in 0..{np.iinfo(np.int32).max}; found "
                      f"{values.min()}..{values.max()}. Renumber them", f"bad_{what}")
    return values.astype(np.int32)
  if values.dtype.kind in "US":
    return np.unique(values.astype(str), return_inverse=True)[1].astype(np.int32)
  raise DataError(f"{where}: {what} must hold integer or string ids; found dtype {values.dtype}",
                  f"bad_{what}")


def _names(arrays, key, where) -> list[str] | None:
  if key not in arrays:
    return None
  names = np.asarray(arrays[key])
  if names.ndim != 1 or names.dtype.kind not in "USiu":
    raise DataError(f"{where}: {key!r} must be a 1-D array of names; found dtype {names.dtype}, shape "
                    f"{names.shape}", f"bad_{key}")
  return names.astype(str).tolist()


def check_finite(x, where: str, what: str = "window") -> None:
  """DataError naming the first non-finite example: sEMG has no repair for missing samples."""
  bad = ~np.isfinite(x)
  if bad.any():
    first = int(np.argwhere(bad)[0][0])
    raise DataError(f"{where}: {int(bad.sum())} NaN/Inf values in 'x' ({int(bad.reshape(len(x), -1).any(1).sum())} "
                    f"{what}s, the first at index {first}); remove those {what}s or fill the gaps "
                    "before saving", "non_finite")


def read_npz(path: str) -> dict:
  """Reads an `.npz` of windows; returns arrays plus class_names/domain_names."""
  if not os.path.isfile(path):
    raise DataNotFoundError(f"semg npz {path!r} (config.data.path) does not exist; "
                            f"make one with `python launch/make_data.py semg --out DIR`")
  arrays = errors_lib.read_npz(
      path, "save windows with numpy.savez(path, x=..., y=...) and plain numeric or string arrays")
  for key in ("x", "y"):
    if key not in arrays:
      raise DataError(f"{path}: needs arrays 'x' (N, T[, C]) and 'y' (N,); found {sorted(arrays)}. "
                      "Save with numpy.savez(path, x=windows, y=labels)", f"missing_{key}")
  x = np.asarray(arrays["x"])
  if x.dtype.kind not in "fiu":
    raise DataError(f"{path}: 'x' must hold numbers; found dtype {x.dtype}", "wrong_dtype")
  if x.ndim == 2:
    x = x[:, :, None]
  if x.ndim != 3 or 0 in x.shape:
    raise DataError(f"{path}: 'x' must be (N, T) or (N, T, C) with no empty axis; found shape "
                    f"{np.shape(arrays['x'])}", "wrong_shape")
  x = x.astype(np.float32)
  check_finite(x, f"{path}")
  if np.ndim(arrays["y"]) != 1 or len(arrays["y"]) != len(x):
    raise DataError(f"{path}: 'x' has {len(x)} windows but 'y' has shape {np.shape(arrays['y'])}; give "
                    "one label per window", "length_mismatch")
  y, class_names = _codes(arrays["y"], _names(arrays, "class_names", path), "labels", path)
  out = {"x": x, "y": y, "class_names": class_names}
  for key in ("domain", "subject", "recording"):
    if key in arrays and np.shape(arrays[key]) != (len(x),):
      raise DataError(f"{path}: '{key}' must give one value per window, shape ({len(x)},); found "
                      f"{np.shape(arrays[key])}", "length_mismatch")
  if "domain" in arrays:
    out["domain"], out["domain_names"] = _codes(arrays["domain"], _names(arrays, "domain_names", path),
                                                "domains", path)
  for key in ("subject", "recording"):
    if key in arrays:
      out[key] = _ids(arrays[key], key, path)
  return out


def _read_recording(path: pathlib.Path) -> np.ndarray:
  try:
    if path.suffix == ".npy":
      signal = np.load(path, allow_pickle=False)
    elif path.suffix == ".csv":
      with open(path) as f:
        first = f.readline()
      has_header = any(ch.isalpha() for ch in first.replace("e", "").replace("E", ""))
      signal = np.loadtxt(path, delimiter=",", skiprows=1 if has_header else 0, ndmin=2)
    else:
      raise DataError(f"recording {path}: expected a .npy or .csv file; found suffix {path.suffix!r}. "
                      "Convert it or fix the manifest's file name", "wrong_format")
  except DataError:
    raise
  except Exception as error:  # noqa: BLE001 - any unreadable file gets the same message
    raise DataError(f"recording {path}: cannot read it ({error}); save a (T,) or (T, C) array with "
                    "numpy.save, or a CSV with one column per channel", "unreadable") from error
  signal = np.asarray(signal)
  if signal.dtype.kind not in "fiu":
    raise DataError(f"recording {path}: expected numbers; found dtype {signal.dtype}", "wrong_dtype")
  signal = signal.astype(np.float32)
  if signal.ndim == 1:
    signal = signal[:, None]
  if signal.ndim != 2 or signal.shape[1] == 0:
    raise DataError(f"recording {path}: expected shape (T,) or (T, C); found {signal.shape}", "wrong_shape")
  bad = ~np.isfinite(signal)
  if bad.any():
    raise DataError(f"recording {path}: {int(bad.sum())} NaN/Inf samples (the first at sample "
                    f"{int(np.argwhere(bad)[0][0])}); fill or cut the gaps before windowing", "non_finite")
  return signal


def _zscore(x, axis):
  mean = x.mean(axis=axis, keepdims=True)
  std = x.std(axis=axis, keepdims=True)
  return ((x - mean) / np.maximum(std, 1e-8)).astype(np.float32)


def _manifest_file(root: pathlib.Path, name: str, where: str, allow_outside: bool) -> pathlib.Path:
  """The recording a manifest row names, refused when it leaves `root` (unless allowed)."""
  if not name:
    raise DataError(f"{where}: empty 'file'; give the recording's name relative to {root}", "bad_manifest")
  path = pathlib.Path(name)
  if not allow_outside:
    inside = (root / path).resolve()
    if path.is_absolute() or not inside.is_relative_to(root.resolve()):
      raise DataError(f"{where}: file {name!r} lies outside the recordings folder {root}; move it into "
                      "the folder and list it by a relative name, or set "
                      "config.data.allow_outside_paths=True", "outside_folder")
  path = path if path.is_absolute() else root / path
  if not path.is_file():
    raise DataNotFoundError(f"{where}: lists {name!r}, which is not a file in {root}; fix the manifest or "
                            "add the recording")
  return path


def _offset(row: dict, key: str, default: int, where: str) -> int:
  text = (row.get(key) or "").strip()
  if not text:
    return default
  try:
    value = int(text)
  except ValueError:
    raise DataError(f"{where}: {key!r} must be a whole sample index; found {text!r}", "bad_manifest") from None
  if value < 0:
    raise DataError(f"{where}: {key!r} must be >= 0 (samples from the recording's start); found {value}. "
                    "Negative offsets are not read from the end: give the sample index", "bad_manifest")
  return value


def read_recordings(folder: str, window: int, stride: int, manifest: str = "manifest.csv",
                    normalize: str = "none", allow_outside_paths: bool = False) -> dict:
  """Windows cut from the continuous recordings a CSV manifest lists.

  Each manifest row (file, label[, domain, subject, start, end]) gives its windows;
  `normalize="recording"` z-scores each file (per channel) before cutting. Files must lie
  inside `folder` unless `allow_outside_paths`. Rows whose span is shorter than one window
  are skipped and counted (`research.data.skipped` items).
  """
  if window < 1 or stride < 1:
    raise ValueError(f"config.data.window and stride must be >= 1 samples; found {window}, {stride}")
  root = pathlib.Path(folder)
  manifest_path = root / manifest
  if not manifest_path.is_file():
    raise DataNotFoundError(f"semg recordings: no manifest {manifest_path} (config.data.manifest); "
                            f"write a CSV with columns file,label[,domain,subject,start,end]")
  try:
    with open(manifest_path, newline="", encoding="utf-8") as f:
      rows = list(csv.DictReader(f))
  except (UnicodeDecodeError, csv.Error) as error:
    raise DataError(f"{manifest_path}: cannot read as CSV ({error}); save it as UTF-8 text with a "
                    "header row file,label[,...]", "bad_manifest") from error
  if not rows or not {"file", "label"} <= set(rows[0]):
    raise DataError(f"{manifest_path}: needs a header with columns 'file' and 'label' and one row per "
                    f"recording; found {sorted(k for k in rows[0] if k) if rows else 'no rows'}",
                    "bad_manifest")
  cache, xs, labels, domains, subjects, recording_ids = {}, [], [], [], [], []
  skipped = []
  for number, row in enumerate(rows, 2):  # line 1 is the header
    where = f"{manifest_path}:{number}"
    name = (row.get("file") or "").strip()
    label = (row.get("label") or "").strip()
    if not label:
      raise DataError(f"{where}: empty 'label' for {name!r}; give every row its class", "bad_manifest")
    if name not in cache:
      path = _manifest_file(root, name, where, allow_outside_paths)
      signal = _read_recording(path)
      cache[name] = _zscore(signal, 0) if normalize == "recording" else signal
    signal = cache[name]
    start = _offset(row, "start", 0, where)
    end = _offset(row, "end", len(signal), where)
    if end > len(signal) or start > end:
      raise DataError(f"{where}: span start={start}, end={end} does not fit {name!r} of {len(signal)} "
                      "samples; give 0 <= start <= end <= its length", "bad_manifest")
    span = signal[start:end]
    starts = np.arange(0, len(span) - window + 1, stride)
    if len(starts) == 0:
      skipped.append(skipped_lib.item(f"{manifest} line {number} ({name})", "too_short",
                                      f"{len(span)} samples, shorter than one window of {window}", label))
      continue
    xs.append(span[starts[:, None] + np.arange(window)[None, :]])
    labels += [label] * len(starts)
    domains += [row.get("domain") or ""] * len(starts)
    subjects += [row.get("subject") or ""] * len(starts)
    recording_ids += [list(cache).index(name)] * len(starts)
  if not xs:
    raise DataError(f"{manifest_path}: no recording span holds one window of {window} samples "
                    f"(config.data.window); lower the window or check start/end", "too_short")
  channels = {x.shape[-1] for x in xs}
  if len(channels) > 1:
    raise DataError(f"{manifest_path}: recordings have different channel counts {sorted(channels)}; "
                    "record every file with the same channels", "channel_mismatch")
  y, class_names = _codes(np.array(labels), None, "labels", str(manifest_path))
  out = {"x": np.concatenate(xs).astype(np.float32), "y": y, "class_names": class_names,
         "recording": np.array(recording_ids, np.int32), "skipped": skipped,
         "normalized": normalize == "recording"}
  if any(domains):
    out["domain"], out["domain_names"] = _codes(np.array(domains), None, "domains", str(manifest_path))
  if any(subjects):
    out["subject"] = _ids(np.array(subjects), "subject", str(manifest_path))
  return out


def normalize_windows(x, mode: str, recording=None, where: str = "config.data.normalize"):
  """Z-scores per window, per recording (ids in `recording`), or leaves `x` alone."""
  if mode not in NORMALIZE:
    raise ValueError(f"{where}: expected one of {NORMALIZE}; found {mode!r}")
  if mode == "window":
    return _zscore(x, 1)
  if mode == "recording":
    if recording is None:
      raise ValueError(f"{where}='recording' needs recording ids (an npz 'recording' array); "
                       f"none found: use 'window' or add them")
    out = np.empty_like(x)
    for r in np.unique(recording):
      pick = recording == r
      out[pick] = _zscore(x[pick].reshape(-1, x.shape[-1]), 0).reshape(x[pick].shape)
    return out
  return x


# --------------------------------------------------------------------------- loader


def arrays_from_config(cfg) -> dict:
  """The windows `config.data` points at (npz, recordings folder) or synthesizes."""
  path = cfg.path
  if not path:
    from research.data.synthetic import semg as synthetic  # Only the embedded data need it.
    return synthetic.synthesize(
        num_classes=cfg.num_classes, windows_per_class=cfg.windows_per_class, subjects=cfg.subjects,
        window=cfg.window, sampling_rate=cfg.sampling_rate, channels=cfg.channels,
        separation=cfg.separation, domain_shift=cfg.domain_shift, seed=cfg.synthetic_seed)
  fmt = cfg.format
  if fmt == "auto":
    fmt = "recordings" if os.path.isdir(path) else "npz"
  if fmt == "npz":
    return read_npz(path)
  if fmt == "recordings":
    return read_recordings(path, cfg.window, cfg.stride, cfg.manifest,
                           "recording" if cfg.normalize == "recording" else "none",
                           bool(cfg.get("allow_outside_paths", False)))
  raise ValueError(f"config.data.format must be auto, npz or recordings; found {fmt!r}")


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """The sEMG `Dataset` of `config.data` (splits from `cfg.split_seed`)."""
  split_seed = dataset_lib.split_seed(cfg, seed)
  arrays = arrays_from_config(cfg)
  x = arrays["x"]
  where = cfg.path or "the synthetic sEMG windows"
  if len(set(arrays["y"].tolist())) < 2:
    raise DataError(f"{where}: every window has the same label {arrays['class_names'][arrays['y'][0]]!r}; "
                    "a classifier needs windows of at least two classes", "single_class")
  if not arrays.get("normalized"):  # the folder reader z-scores whole recordings itself
    x = normalize_windows(x, cfg.normalize, arrays.get("recording"))
  pool = {"x": x, "y": arrays["y"]}
  for key in ("domain", "subject"):
    if key in arrays:
      pool[key] = np.asarray(arrays[key], np.int32)
  domain_names = [str(n) for n in arrays.get("domain_names", [])]
  meta = {
      "source": cfg.path or "synthetic sEMG (research.data.synthetic.semg.synthesize)",
      "class_names": [str(n) for n in arrays["class_names"]],
      "sampling_rate": float(cfg.sampling_rate),
      "feature_layout": [f"emg_{c}" for c in range(x.shape[-1])],
      "window": int(x.shape[1]),
      "normalize": cfg.normalize,
      "skipped": arrays.get("skipped", []),
      "domain_names": domain_names,
      "chance": 1.0 / len(arrays["class_names"]),
  }
  if cfg.target_domain and "domain" in pool:
    for name in (cfg.source_domain, cfg.target_domain):
      if name not in domain_names:
        raise ValueError(f"config.data: domain {name!r} not in the data's domains {domain_names}; "
                         f"set data.source_domain/target_domain, or target_domain='' for no transfer split")
    source = dataset_lib.take(pool, pool["domain"] == domain_names.index(cfg.source_domain))
    test = dataset_lib.take(pool, pool["domain"] == domain_names.index(cfg.target_domain))
    train, val = dataset_lib.stratified_if_possible(source, cfg.val_fraction, split_seed, where, "validation")
    meta.update(split="transfer", source_domain=cfg.source_domain, target_domain=cfg.target_domain)
  else:
    if cfg.source_domain and "domain" in pool and cfg.source_domain in domain_names:
      pool = dataset_lib.take(pool, pool["domain"] == domain_names.index(cfg.source_domain))
      meta["source_domain"] = cfg.source_domain
    rest, test = dataset_lib.stratified_if_possible(pool, cfg.test_fraction, split_seed, where, "test")
    train, val = dataset_lib.stratified_if_possible(rest, cfg.val_fraction, split_seed, where, "validation")
    meta["split"] = "stratified"
  only_test = sorted(set(test["y"].tolist()) - set(train["y"].tolist()))
  if only_test:
    names = [meta["class_names"][c] for c in only_test]
    raise DataError(f"{where}: classes {names} have test windows but no training window "
                    f"({meta.get('split')} split); add training data for them or leave them out",
                    "class_only_in_test")
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)


def data_config():
  """`config.data` for the sEMG configs (defaults: the embedded synthetic set)."""
  import ml_collections  # Only configs need it.
  cfg = ml_collections.ConfigDict()
  cfg.name = "semg"
  cfg.path = ""  # .npz file or recordings folder; "" = embedded synthetic data
  cfg.format = "auto"  # auto | npz | recordings
  cfg.manifest = "manifest.csv"  # recordings: CSV file,label[,domain,subject,start,end]
  cfg.window = 3000  # samples per window (recordings; and the synthetic window length)
  cfg.stride = 3000  # samples between window starts (recordings)
  cfg.sampling_rate = 1000.0  # Hz
  cfg.normalize = "window"  # none | recording | window: z-score per recording or per window
  cfg.source_domain = "L3"  # train/val domain when the data carry a domain tag
  cfg.target_domain = "L4"  # test domain; "" = stratified test split instead
  cfg.test_fraction = 0.2  # without a target domain
  cfg.val_fraction = 0.2  # of the training pool, stratified
  cfg.split_seed = 42  # train/val/test assignment (the model's seed never moves data between splits)
  cfg.allow_outside_paths = False  # recordings: manifest files outside the folder (../x.npy, /abs) allowed
  # Embedded generator (used when path is "").
  cfg.num_classes = 4
  cfg.windows_per_class = 50  # per domain: 200 source windows, as the seed's ~200
  cfg.subjects = 5
  cfg.channels = 1
  cfg.separation = 0.5  # class envelopes/spectra blended halfway to a common one; 0 = no information
  cfg.domain_shift = 0.5  # strength of the L3 -> L4 shift (1 = gain x0.6, floor +0.25, -25 Hz)
  cfg.synthetic_seed = 0
  return cfg

"""sEMG windows on disk, in two layouts (both read into x (N, T, C) float32, y (N,) int32,
plus `domain` and `subject` int32 when known):
  * `.npz` arrays: `x` (N, T) or (N, T, C), `y` (N,) ints or strings; optional
    `domain` (N,) names or ints (e.g. the seed's "L3"/"L4"), `subject`,
    `recording` (ids for per-recording normalisation), `class_names`,
    `domain_names`.
  * a folder of continuous recordings (`.npy` (T,) / (T, C), or `.csv` with one
    column per channel and an optional header row) listed in a CSV manifest
    with columns `file,label` and optional `domain`, `subject`, `start`, `end`
    (samples; a row labels that part of the recording), cut into windows of
    `window` samples every `stride` samples.

Manifest files must lie inside the folder (`config.data.allow_outside_paths` allows
others); NaN/Inf samples are an error (sEMG has no repair for missing samples).
"""

from __future__ import annotations

import csv
import os
import pathlib

import numpy as np

from research.data import sequences as seq_lib
from research.data import skipped as skipped_lib
from research.data.errors import DataError, DataNotFoundError
from research.data.formats.npz import read_npz


def _strings(values, what: str, where: str) -> np.ndarray:
  """`values` as str; bytes that are not ASCII text are a DataError (numpy decodes bytes as ASCII)."""
  try:
    return values.astype(str)
  except UnicodeDecodeError as error:
    raise DataError(f"{where}: {what} hold bytes that are not ASCII text ({error}); save them as "
                    "str arrays (np.asarray([...], str))", f"bad_{what}") from None


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
  strings = _strings(values, what, where)
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
    return np.unique(_strings(values, what, where), return_inverse=True)[1].astype(np.int32)
  raise DataError(f"{where}: {what} must hold integer or string ids; found dtype {values.dtype}",
                  f"bad_{what}")


def _names(arrays, key, where) -> list[str] | None:
  if key not in arrays:
    return None
  names = np.asarray(arrays[key])
  if names.ndim != 1 or names.dtype.kind not in "USiu":
    raise DataError(f"{where}: {key!r} must be a 1-D array of names; found dtype {names.dtype}, shape "
                    f"{names.shape}", f"bad_{key}")
  return _strings(names, key, where).tolist()


def check_finite(x, where: str, what: str = "window") -> None:
  """DataError naming the first non-finite example: sEMG has no repair for missing samples."""
  bad = ~np.isfinite(x)
  if bad.any():
    first = int(np.argwhere(bad)[0][0])
    raise DataError(f"{where}: {int(bad.sum())} NaN/Inf values in 'x' ({int(bad.reshape(len(x), -1).any(1).sum())} "
                    f"{what}s, the first at index {first}); remove those {what}s or fill the gaps "
                    "before saving", "non_finite")


def read_windows(path: str) -> dict:
  """Reads an `.npz` of windows; returns arrays plus class_names/domain_names."""
  if not os.path.isfile(path):
    raise DataNotFoundError(f"semg npz {path!r} (config.data.path) does not exist; "
                            f"make one with `python launch/make_data.py semg --out DIR`")
  arrays = read_npz(
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
      cache[name] = seq_lib.zscore(signal, 0) if normalize == "recording" else signal
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


def write_windows(path, x, y, domain, subject, class_names) -> pathlib.Path:
  """Writes windows as a compressed `.npz` (domain as names)."""
  path = pathlib.Path(path)
  np.savez_compressed(path, x=x, y=y, domain=domain, subject=subject, class_names=class_names)
  return path


def write_recordings(folder, recordings: list[tuple[str, np.ndarray, dict]]) -> pathlib.Path:
  """Writes (name, (T, C) signal, manifest row) recordings and their `manifest.csv`: a name ending
  in `.csv` is written as CSV (one column per channel, a header row), any other with numpy.save."""
  folder = pathlib.Path(folder)
  rows = []
  for name, recording, row in recordings:
    if name.endswith(".csv"):
      header = ",".join(f"ch{k}" for k in range(recording.shape[1]))
      np.savetxt(folder / name, recording, delimiter=",", header=header, comments="", fmt="%.6g")
    else:
      np.save(folder / name, recording)
    rows.append({"file": name, **row})
  with open(folder / "manifest.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["file", "label", "domain", "subject"])
    writer.writeheader()
    writer.writerows(rows)
  return folder / "manifest.csv"

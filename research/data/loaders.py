"""One loader per data name: `load_<name>(data_config, seed) -> Dataset`.

Each reads its source (`sources.source`: `config.data.path`, or the generated default data)
with its format's reader, prepares the arrays (padding, windows, images, normalisation), and
splits them with `config.data.split_seed` (research.data.splits).
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np

from research.data import dataset as dataset_lib
from research.data import hht_inputs
from research.data import sequences as seq_lib
from research.data import sources
from research.data import splits
from research.data import windows
from research.data.errors import DataError
from research.data.formats import hht_files
from research.data.formats import keypoints
from research.data.formats import npz
from research.data.formats import semg
from research.data.formats import ts
from research.data.formats import workout
from research.data.layouts import (ANGLE_CENTER, ANGLE_SCALE, HHT_CLASSES, JOINT_NAMES, NONE_CLASS,
                                   select_keypoint_groups)
from research.data.synthetic import mixture

KEYPOINT_READER_VERSION = 1  # bump when keypoints.read_folder's output changes, so cached arrays are read afresh


def _sequence_meta(examples, length, missing) -> dict:
  return {"feature_layout": {"format": "array", "num_features": int(examples["x"].shape[2])},
          "num_features": int(examples["x"].shape[2]), "max_length": int(length),
          "missing_values": missing, "skipped": []}


def _classification_splits(cfg, seed, examples, meta, test, where) -> dataset_lib.Dataset:
  return splits.classification_splits(
      examples, meta, test=test, test_fraction=cfg.get("test_fraction", 0.1),
      val_fraction=cfg.get("val_fraction", 0.15), seed=splits.split_seed(cfg, seed),
      normalize=cfg.get("normalize", "none"), where=where)


# ----------------------------------------------------------------------------- .ts and .npz


def load_ts(cfg, seed: int) -> dataset_lib.Dataset:
  """UEA/UCR `.ts` data: TRAIN file (+ TEST file when there is one), padded with a mask."""
  source = sources.source(cfg, "ts")
  with sources.reading(source):
    train_path, test_path = ts.resolve_paths(source.path, cfg.get("test_path"))
    series, labels, header = ts.read_ts(train_path)
    series, missing = seq_lib.clean(series, str(train_path))
    test_series = test_labels = None
    if test_path is not None:
      test_series, test_labels, _ = ts.read_ts(test_path)
      test_series, test_missing = seq_lib.clean(test_series, str(test_path))
      missing = {k: missing[k] + test_missing[k] for k in missing}
  names = header.get("class_names") or None
  all_labels = labels + (test_labels or [])
  y_all, class_names = seq_lib.encode_labels(np.asarray(all_labels, dtype=str), names, str(train_path))
  where = f"{train_path}" + (f" + {test_path}" if test_path else "")
  examples, test, length = seq_lib.padded_splits(series, test_series, y_all, where)
  lengths = [len(s) for s in series + (test_series or [])]
  meta = {"source": where, "problem": header.get("problemname", train_path.stem), "class_names": class_names,
          **_sequence_meta(examples, length, missing), "length_range": [int(min(lengths)), int(max(lengths))]}
  return _classification_splits(cfg, seed, examples, meta, test, where)


def load_npz(cfg, seed: int) -> dataset_lib.Dataset:
  """Labelled sequences of one `.npz` (research.data.formats.npz), padded with a mask."""
  source = sources.source(cfg, "npz")
  path = pathlib.Path(source.path)
  with sources.reading(source):
    stored = npz.read_sequences(path)
  series, missing = seq_lib.clean(stored.series, f"{path}[x]")
  test_series = None
  if stored.test_series is not None:
    test_series, test_missing = seq_lib.clean(stored.test_series, f"{path}[x_test]")
    missing = {k: missing[k] + test_missing[k] for k in missing}
  raw = stored.labels if stored.test_labels is None else np.concatenate([stored.labels, stored.test_labels])
  y_all, class_names = seq_lib.encode_labels(raw, stored.class_names, f"{path}[y]")
  examples, test, length = seq_lib.padded_splits(series, test_series, y_all, str(path))
  meta = {"source": str(path), "class_names": class_names, **_sequence_meta(examples, length, missing)}
  return _classification_splits(cfg, seed, examples, meta, test, str(path))


# ----------------------------------------------------------------------------- keypoints


def read_keypoints_cached(root, actions, frames: int, cache_dir, identity: str = ""):
  """`keypoints.read_folder`, its result kept in the data cache under a digest of every file's bytes.

  Hashing the files is several times faster than parsing thousands of small `.npy` files
  (benchmarks/data_cache.py), and any change to a file, a new or a removed one reads afresh.
  `identity` stands in for that digest when the folder is a verified data cache entry
  (`Source.entry_identity`), whose files were just hashed against its manifest.
  """
  root = pathlib.Path(root)
  if not cache_dir or not root.is_dir():
    return keypoints.read_folder(root, actions, frames)
  names = list(actions) if actions else keypoints.action_names(root)
  if identity:
    content = {"cache_entry": identity}
  else:
    paths = [p for name in names if (root / name).is_dir() for p in sorted((root / name).rglob("*"))]
    content = sources.content_digest(paths, root)
  settings = {"reader": KEYPOINT_READER_VERSION, "actions": names, "frames": frames, "content": content}

  def build():
    sequences, y, class_names, skipped = keypoints.read_folder(root, names, frames)
    x, _ = seq_lib.pad(sequences)
    return {"x": x, "length": np.asarray([len(s) for s in sequences], np.int32), "y": y,
            "class_names": np.asarray(class_names), "skipped": np.asarray(json.dumps(skipped))}

  stored = sources.cached_arrays(cache_dir, "keypoint_arrays", settings, build)
  sequences = [x_TF[:n] for x_TF, n in zip(stored["x"], stored["length"])]
  return (sequences, np.asarray(stored["y"], np.int32), [str(n) for n in stored["class_names"]],
          json.loads(str(stored["skipped"])))


def load_keypoints(cfg, seed: int) -> dataset_lib.Dataset:
  """MediaPipe keypoint sequences (the synthetic signs when data.path is empty), padded with a mask."""
  source = sources.source(cfg, "keypoints")
  actions = source.options["actions"] if source.generated else list(cfg.get("actions") or ())
  frames = int(cfg.get("frames", 30))
  with sources.reading(source):
    sequences, y, class_names, skipped = read_keypoints_cached(source.path, actions, frames, cfg.get("cache_dir", ""),
                                                               source.entry_identity)
  index, layout = select_keypoint_groups(cfg.get("keypoint_groups"))
  x, mask = seq_lib.pad([s[:, index] for s in sequences])
  where = f"synthetic keypoints ({source.path})" if source.generated else source.path
  meta = {"source": where, "class_names": class_names, "feature_layout": layout,
          "sampling_rate": 30.0,  # frames per second of a typical webcam; not stored in the files
          "skipped": skipped, "max_length": int(x.shape[1]), "num_features": int(x.shape[2])}
  return _classification_splits(cfg, seed, {"x": x, "y": y, "mask": mask}, meta, None, where)


# ----------------------------------------------------------------------------- workout


def load_workout(cfg, seed: int) -> dataset_lib.Dataset:
  """Windows of every recording in `cfg.path` (or the embedded synthetic sessions), split by recording
  with `cfg.split_seed`.

  Train and validation windows use `cfg.stride`; test windows use `cfg.eval_stride` and carry
  `recording` and `start`, so a report can stitch per-frame probabilities over whole sessions.
  """
  class_names = tuple(cfg.class_names)
  if NONE_CLASS not in class_names:
    raise ValueError(f"config.data.class_names must include {NONE_CLASS!r} (frames outside sets); "
                     f"found {list(class_names)}")
  source = sources.source(cfg, "workout")
  with sources.reading(source):
    recordings, skipped = workout.read_folder(source.path, class_names, cfg.fps, cfg.window)
  assignment = splits.by_recording(list(recordings), cfg.val_fraction, cfg.test_fraction,
                                   splits.split_seed(cfg, seed))
  none_index = class_names.index(NONE_CLASS)
  parts_by_split, described = {}, {}
  for split_name, names in assignment.items():
    stride = cfg.eval_stride if split_name == "test" else cfg.stride
    parts = []
    for index, name in enumerate(names):
      part = windows.make_windows(recordings[name], window=cfg.window, stride=stride,
                                  half_width=cfg.target_half_width, num_classes=len(class_names),
                                  label_mode=cfg.label_mode, delay=cfg.get("target_delay", 0))
      part["recording"] = np.full(len(part["y"]), index, np.int32)
      parts.append(part)
    parts_by_split[split_name] = dataset_lib.concatenate(*parts)
    described[split_name] = [
        {"name": name, "path": recordings[name].path, "num_frames": len(recordings[name].angles),
         "sets": windows.sets_of(recordings[name].exercise, recordings[name].rep_starts, none_index)}
        for name in names]
  meta = {
      "source": f"workout recordings in {source.path}" + (" (embedded synthetic sessions)" if source.generated else ""),
      "class_names": list(class_names),
      "none_class": NONE_CLASS,
      "feature_layout": list(JOINT_NAMES),
      "input_scaling": {"center": ANGLE_CENTER, "scale": ANGLE_SCALE, "unit": "degrees"},
      "sampling_rate": cfg.fps,
      "window": cfg.window,
      "stride": {"train": cfg.stride, "val": cfg.stride, "test": cfg.eval_stride},
      "label_mode": cfg.label_mode,
      "target_half_width": cfg.target_half_width,
      "target_delay": cfg.get("target_delay", 0),
      "recordings": described,
      "skipped": skipped,
  }
  return dataset_lib.Dataset(train=parts_by_split["train"], val=parts_by_split["val"],
                             test=parts_by_split["test"], meta=meta)


# ----------------------------------------------------------------------------- sEMG


def read_semg(cfg, path: str) -> dict:
  """The windows at `path`: an `.npz` of windows, or a recordings folder with its manifest."""
  fmt = cfg.format
  if fmt == "auto":
    fmt = "recordings" if os.path.isdir(path) else "npz"
  if fmt == "npz":
    return semg.read_windows(path)
  if fmt == "recordings":
    return semg.read_recordings(path, cfg.window, cfg.stride, cfg.manifest,
                                "recording" if cfg.normalize == "recording" else "none",
                                bool(cfg.get("allow_outside_paths", False)))
  raise ValueError(f"config.data.format must be auto, npz or recordings; found {fmt!r}")


def load_semg(cfg, seed: int) -> dataset_lib.Dataset:
  """sEMG windows; with a domain tag and `target_domain` set, train/val come from the source
  domain (stratified) and test is the target domain (transfer); otherwise a stratified test
  split, then a stratified validation split (`cfg.split_seed`)."""
  split_seed = splits.split_seed(cfg, seed)
  source = sources.source(cfg, "semg")
  where = "the synthetic sEMG windows" if source.generated else source.path
  with sources.reading(source):
    arrays = read_semg(cfg, source.path)
    if len(set(arrays["y"].tolist())) < 2:
      raise DataError(f"{where}: every window has the same label {arrays['class_names'][arrays['y'][0]]!r}; "
                      "a classifier needs windows of at least two classes", "single_class")
  x = arrays["x"]
  if not arrays.get("normalized"):  # the folder reader z-scores whole recordings itself
    x = seq_lib.normalize_windows(x, cfg.normalize, arrays.get("recording"))
  pool = {"x": x, "y": arrays["y"]}
  for key in ("domain", "subject"):
    if key in arrays:
      pool[key] = np.asarray(arrays[key], np.int32)
  domain_names = [str(n) for n in arrays.get("domain_names", [])]
  meta = {
      "source": "synthetic sEMG (research.data.synthetic.semg)" if source.generated else source.path,
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
    train, val, test = splits.by_domain(pool, domain_names, cfg.source_domain, cfg.target_domain,
                                        cfg.val_fraction, split_seed, where)
    meta.update(split="transfer", source_domain=cfg.source_domain, target_domain=cfg.target_domain)
  else:
    if cfg.source_domain and "domain" in pool and cfg.source_domain in domain_names:
      pool = dataset_lib.take(pool, pool["domain"] == domain_names.index(cfg.source_domain))
      meta["source_domain"] = cfg.source_domain
    rest, test = splits.stratified_if_possible(pool, cfg.test_fraction, split_seed, where, "test")
    train, val = splits.stratified_if_possible(rest, cfg.val_fraction, split_seed, where, "validation")
    meta["split"] = "stratified"
  only_test = sorted(set(test["y"].tolist()) - set(train["y"].tolist()))
  if only_test:
    names = [meta["class_names"][c] for c in only_test]
    raise DataError(f"{where}: classes {names} have test windows but no training window "
                    f"({meta.get('split')} split); add training data for them or leave them out",
                    "class_only_in_test")
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)


# ----------------------------------------------------------------------------- HHT files


def load_hht_files(cfg, seed: int) -> dataset_lib.Dataset:
  """Stratified train/val split (data.val_fraction, data.split_seed) of the labelled files;
  test = held-out files.

  Splits carry `file_index` into meta['files'] (train/val) or meta['test_files'] (test);
  test labels are -1 (unknown).
  """
  source = sources.source(cfg, "hht_files")
  folder = pathlib.Path(source.path)
  with sources.reading(source):
    labelled, held_out, skipped = hht_files.scan(folder)
    if not labelled:
      raise DataError(f"{hht_files.NO_TRAINING_FILES} in {str(folder)!r}: {len(held_out)} test file(s), "
                      f"{len(skipped)} skipped ({[s['item'] for s in skipped[:5]]}...). Training files "
                      "must be named MUSCLE_movement_GENDER_###.npz without 'test'.", "empty")
    files = [p.name for p, _ in labelled]
    labels = np.array([lab.label for _, lab in labelled], np.int32)
    everything = {"x": hht_inputs.read_inputs([p for p, _ in labelled], cfg), "y": labels,
                  "file_index": np.arange(len(labelled), dtype=np.int32)}
    counts = np.bincount(labels, minlength=len(HHT_CLASSES))
    if np.count_nonzero(counts) < 2:
      raise DataError(f"{folder}: every training file is of class {HHT_CLASSES[int(labels[0])]!r}; a "
                      "classifier needs files of at least two classes", "single_class")
  train, val = splits.stratified_if_possible(everything, cfg.val_fraction, splits.split_seed(cfg, seed),
                                             str(folder), "validation")
  stratify = splits.can_stratify(labels, cfg.val_fraction)
  test = {"x": hht_inputs.read_inputs(held_out, cfg), "y": np.full(len(held_out), -1, np.int32),
          "file_index": np.arange(len(held_out), dtype=np.int32)}
  meta = {
      "source": f"HHT images from {folder}" + (" (embedded synthetic files)" if source.generated else ""),
      "class_names": list(HHT_CLASSES),
      "class_counts": {name: int(c) for name, c in zip(HHT_CLASSES, counts)},
      "feature_layout": ["time_bin", "frequency_bin", "log1p(amplitude / image mean)"
                         if cfg.log_scale else "amplitude / image mean"],
      "sampling_rate": float(cfg.sampling_rate),
      "files": files,
      "test_files": [p.name for p in held_out],
      "skipped": skipped,
      "split": "stratified" if stratify else "random (too few files per class to stratify)",
  }
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)


# ----------------------------------------------------------------------------- mixture


def load_mixture(cfg, seed: int) -> dataset_lib.Dataset:
  """Train/val from one mixture signal (random split by `cfg.split_seed`), test from a second signal."""
  train, val = splits.random_split(mixture.signal_windows(cfg, cfg.train_seed), cfg.val_fraction,
                                   splits.split_seed(cfg, seed))
  test = mixture.signal_windows(cfg, cfg.test_seed)
  names = [f"{f:g}Hz" for f in cfg.frequencies]
  meta = {
      "source": "synthetic mixture of sinusoids",
      "frequencies": list(cfg.frequencies),
      "frequency_names": names,
      "sampling_rate": cfg.sampling_rate,
      "feature_layout": ["mixture"] + [f"select_{n}" for n in names],
  }
  return dataset_lib.Dataset(train=train, val=val, test=test, meta=meta)

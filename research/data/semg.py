"""Single-channel (or multichannel) sEMG windows: readers, normalisation, synthesis.

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
  * an embedded generator (no path): band-limited 20-450 Hz noise bursts with
    class-dependent envelopes and spectra, subject variation and a source ->
    target domain shift (gain, noise floor, electrode shift).

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

# Class prototypes of the generator: envelope family and spectral centre (Hz).
GESTURES = (
    ("rest", "tonic", 70.0),
    ("grip", "burst", 120.0),
    ("tap", "phasic", 95.0),
    ("extend", "ramp", 145.0),
    ("pinch", "double", 110.0),
    ("flex", "decay", 80.0),
)
NORMALIZE = ("none", "recording", "window")
BAND = (20.0, 450.0)  # Hz, the sEMG band the generator fills


# --------------------------------------------------------------------------- synthesis


def _envelopes(kind: str, t, rng):
  """(N, T) envelope in [0, 1] of one family, with random timing per window."""
  n, duration = t.shape[0], t[0, -1]
  if kind == "tonic":
    level = rng.uniform(0.35, 0.6, (n, 1))
    return level + 0.08 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6, (n, 1)) * t)
  if kind == "burst":
    on = rng.uniform(0.1, 0.45, (n, 1)) * duration
    off = on + rng.uniform(0.3, 0.5, (n, 1)) * duration
    rise = 0.05 * duration
    return 0.15 + 0.85 / ((1 + np.exp(-(t - on) / rise * 4)) * (1 + np.exp((t - off) / rise * 4)))
  if kind == "phasic":
    rate = rng.uniform(1.2, 2.2, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    return 0.15 + 0.85 * (0.5 + 0.5 * np.sin(2 * np.pi * rate * t + phase)) ** 4
  if kind == "ramp":
    start = rng.uniform(0.0, 0.3, (n, 1)) * duration
    return 0.15 + 0.85 * np.clip((t - start) / (duration - start), 0, 1)
  if kind == "double":
    first = rng.uniform(0.15, 0.35, (n, 1)) * duration
    gap = rng.uniform(0.3, 0.45, (n, 1)) * duration
    width = 0.07 * duration
    return 0.15 + 0.85 * (np.exp(-0.5 * ((t - first) / width) ** 2)
                          + np.exp(-0.5 * ((t - first - gap) / width) ** 2))
  if kind == "decay":
    return 0.15 + 0.85 * np.exp(-t / (rng.uniform(0.2, 0.4, (n, 1)) * duration))
  raise ValueError(f"Unknown envelope family {kind!r}")


def _band_noise(centre_N, width: float, sampling_rate: float, length: int, rng):
  """Unit-variance Gaussian noise whose spectrum is a bump at `centre_N` Hz within 20-450 Hz."""
  white = rng.standard_normal((len(centre_N), length))
  freqs = np.fft.rfftfreq(length, 1.0 / sampling_rate)
  band = (freqs >= BAND[0]) & (freqs <= min(BAND[1], sampling_rate / 2))
  shape = np.exp(-0.5 * ((freqs[None, :] - centre_N[:, None]) / width) ** 2) * band[None, :]
  signal = np.fft.irfft(np.fft.rfft(white, axis=1) * shape, n=length, axis=1)
  return signal / np.maximum(signal.std(axis=1, keepdims=True), 1e-12)


def synthesize(num_classes: int = 4, windows_per_class: int = 40, subjects: int = 5,
               window: int = 3000, sampling_rate: float = 1000.0, channels: int = 1,
               separation: float = 1.0, domain_shift: float = 1.0,
               domains: tuple[str, ...] = ("L3", "L4"), seed: int = 0) -> dict:
  """Synthetic sEMG windows; `windows_per_class` per class *per domain*.

  Each window: band-limited noise (spectral bump at the class centre, shifted
  per subject) times the class envelope, times a subject gain, plus a noise
  floor. `separation` in [0, 1] blends class envelopes and spectra towards a
  common one (0 = labels carry no information: pure chance). The target domain
  (every domain after the first) has lower gain, a higher noise floor and an
  electrode shift (spectral centre moved down, a little cross-talk of a slow
  motion artefact), each scaled by `domain_shift`.

  Returns x (N, window, channels) float32, y, domain, subject (N,) int32,
  class_names, domain_names.
  """
  if not 2 <= num_classes <= len(GESTURES):
    raise ValueError(f"semg synthesize: num_classes must be in 2..{len(GESTURES)}; got {num_classes}")
  rng = np.random.default_rng(seed)
  t = np.arange(window) / sampling_rate
  subject_gain = rng.lognormal(0.0, 0.35, subjects)
  subject_shift = rng.normal(0.0, 12.0, subjects)  # Hz
  common_centre = np.mean([g[2] for g in GESTURES[:num_classes]])
  xs, ys, ds, ss = [], [], [], []
  for d, _ in enumerate(domains):
    shift = domain_shift * (d > 0)
    for c in range(num_classes):
      _, kind, centre = GESTURES[c]
      n = windows_per_class
      subject = rng.integers(0, subjects, n)
      tt = np.broadcast_to(t, (n, window))
      env = separation * _envelopes(kind, tt, rng) + (1 - separation) * _envelopes("tonic", tt, rng)
      env *= rng.lognormal(0.0, 0.25, (n, 1))  # effort varies window to window
      chans = []
      for ch in range(channels):
        f = (common_centre + separation * (centre - common_centre) + subject_shift[subject]
             + rng.normal(0, 8.0, n) - 25.0 * shift + 10.0 * ch)
        chans.append(_band_noise(np.maximum(f, 30.0), 30.0, sampling_rate, window, rng) * env)
      emg = np.stack(chans, -1)  # (n, T, C)
      gain = subject_gain[subject] * (1.0 - 0.4 * shift)
      floor = 0.15 + 0.25 * shift
      artefact = shift * 0.3 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0, (n, 1)) * t
                                      + rng.uniform(0, 2 * np.pi, (n, 1)))
      emg = emg * gain[:, None, None] + floor * rng.standard_normal(emg.shape) + artefact[:, :, None]
      xs.append(emg.astype(np.float32))
      ys.append(np.full(n, c, np.int32))
      ds.append(np.full(n, d, np.int32))
      ss.append(subject.astype(np.int32))
  return {"x": np.concatenate(xs), "y": np.concatenate(ys), "domain": np.concatenate(ds),
          "subject": np.concatenate(ss),
          "class_names": np.array([g[0] for g in GESTURES[:num_classes]]),
          "domain_names": np.array(list(domains))}


def generate(out_dir: str, layout: str = "npz", **options) -> None:
  """`launch/make_data.py semg --out DIR [--layout npz|recordings] [--num_classes 4 ...]`.

  `npz` writes DIR/semg.npz; `recordings` writes one continuous `.npy` recording
  per (domain, subject, class) plus DIR/manifest.csv (every third as `.csv`, so
  both file kinds are exercised); windows laid end to end, so stride = window
  recovers them.
  """
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  if "domains" in options and isinstance(options["domains"], str):
    options["domains"] = tuple(options["domains"].split(","))
  data = synthesize(**options)
  if layout == "npz":
    np.savez_compressed(out / "semg.npz", x=data["x"], y=data["y"],
                        domain=data["domain_names"][data["domain"]], subject=data["subject"],
                        class_names=data["class_names"])
    print(f"wrote {out / 'semg.npz'}: x {data['x'].shape}")
    return
  if layout != "recordings":
    raise ValueError(f"make_data semg: --layout must be npz or recordings; got {layout!r}")
  rows = []
  keys = sorted(set(zip(data["domain"].tolist(), data["subject"].tolist(), data["y"].tolist())))
  for i, (d, s, c) in enumerate(keys):
    pick = (data["domain"] == d) & (data["subject"] == s) & (data["y"] == c)
    recording = data["x"][pick].reshape(-1, data["x"].shape[-1])
    name = f"{data['domain_names'][d]}_s{s}_{data['class_names'][c]}"
    if i % 3 == 2:
      name += ".csv"
      header = ",".join(f"ch{k}" for k in range(recording.shape[1]))
      np.savetxt(out / name, recording, delimiter=",", header=header, comments="", fmt="%.6g")
    else:
      name += ".npy"
      np.save(out / name, recording)
    rows.append({"file": name, "label": data["class_names"][c], "domain": data["domain_names"][d],
                 "subject": s})
  with open(out / "manifest.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["file", "label", "domain", "subject"])
    writer.writeheader()
    writer.writerows(rows)
  print(f"wrote {len(rows)} recordings and {out / 'manifest.csv'}")


# --------------------------------------------------------------------------- readers


def _codes(values, names=None, what="labels", where=""):
  """Maps strings or ints to int codes; returns (codes int32, names list[str])."""
  values = np.asarray(values)
  if values.dtype.kind in "iu":
    if names is None:
      names = [str(v) for v in range(int(values.max()) + 1)] if values.size else []
    if values.size and (values.min() < 0 or values.max() >= len(names)):
      raise ValueError(f"{where}: {what} must lie in 0..{len(names) - 1} to match the names "
                       f"{list(names)}; found {values.min()}..{values.max()}")
    return values.astype(np.int32), [str(n) for n in names]
  strings = values.astype(str)
  if names is None:
    names = sorted(set(strings.tolist()))
  names = [str(n) for n in names]
  lookup = {n: i for i, n in enumerate(names)}
  unknown = sorted(set(strings.tolist()) - set(lookup))
  if unknown:
    raise ValueError(f"{where}: {what} {unknown} are not among the names {names}; "
                     f"add them to the names or fix the data")
  return np.array([lookup[s] for s in strings], np.int32), names


def read_npz(path: str) -> dict:
  """Reads an `.npz` of windows; returns arrays plus class_names/domain_names."""
  if not os.path.exists(path):
    raise FileNotFoundError(f"semg npz {path!r} (config.data.path) does not exist; "
                            f"make one with `python launch/make_data.py semg --out DIR`")
  with np.load(path, allow_pickle=False) as f:
    arrays = {k: f[k] for k in f.files}
  for key in ("x", "y"):
    if key not in arrays:
      raise ValueError(f"{path}: needs arrays 'x' (N, T[, C]) and 'y' (N,); found {sorted(arrays)}")
  x = np.asarray(arrays["x"], np.float32)
  if x.ndim == 2:
    x = x[:, :, None]
  if x.ndim != 3:
    raise ValueError(f"{path}: 'x' must be (N, T) or (N, T, C); found shape {x.shape}")
  if len(arrays["y"]) != len(x):
    raise ValueError(f"{path}: 'x' has {len(x)} windows but 'y' has {len(arrays['y'])}")
  class_names = arrays["class_names"].astype(str).tolist() if "class_names" in arrays else None
  y, class_names = _codes(arrays["y"], class_names, "labels", path)
  out = {"x": x, "y": y, "class_names": class_names}
  if "domain" in arrays:
    domain_names = arrays["domain_names"].astype(str).tolist() if "domain_names" in arrays else None
    out["domain"], out["domain_names"] = _codes(arrays["domain"], domain_names, "domains", path)
  for key in ("subject", "recording"):
    if key in arrays:
      out[key] = _codes(arrays[key], None, key, path)[0]
  return out


def _read_recording(path: pathlib.Path) -> np.ndarray:
  if path.suffix == ".npy":
    signal = np.load(path, allow_pickle=False)
  elif path.suffix == ".csv":
    with open(path) as f:
      first = f.readline()
    has_header = any(ch.isalpha() for ch in first.replace("e", "").replace("E", ""))
    signal = np.loadtxt(path, delimiter=",", skiprows=1 if has_header else 0, ndmin=2)
  else:
    raise ValueError(f"recording {path}: expected a .npy or .csv file; found suffix {path.suffix!r}")
  signal = np.asarray(signal, np.float32)
  if signal.ndim == 1:
    signal = signal[:, None]
  if signal.ndim != 2:
    raise ValueError(f"recording {path}: expected shape (T,) or (T, C); found {signal.shape}")
  return signal


def _zscore(x, axis):
  mean = x.mean(axis=axis, keepdims=True)
  std = x.std(axis=axis, keepdims=True)
  return ((x - mean) / np.maximum(std, 1e-8)).astype(np.float32)


def read_recordings(folder: str, window: int, stride: int, manifest: str = "manifest.csv",
                    normalize: str = "none") -> dict:
  """Windows cut from the continuous recordings a CSV manifest lists.

  Each manifest row (file, label[, domain, subject, start, end]) gives its
  windows; `normalize="recording"` z-scores each file (per channel) before
  cutting. Rows whose span is shorter than one window are skipped and counted.
  """
  root = pathlib.Path(folder)
  manifest_path = root / manifest
  if not manifest_path.exists():
    raise FileNotFoundError(f"semg recordings: no manifest {manifest_path} (config.data.manifest); "
                            f"write a CSV with columns file,label[,domain,subject,start,end]")
  with open(manifest_path, newline="") as f:
    rows = list(csv.DictReader(f))
  if not rows or not {"file", "label"} <= set(rows[0]):
    raise ValueError(f"{manifest_path}: needs columns 'file' and 'label'; "
                     f"found {sorted(rows[0]) if rows else 'no rows'}")
  cache, xs, labels, domains, subjects, recording_ids = {}, [], [], [], [], []
  skipped = {}
  for row in rows:
    name = row["file"]
    if name not in cache:
      path = root / name
      if not path.exists():
        raise FileNotFoundError(f"{manifest_path}: lists {name!r}, which is not in {root}")
      signal = _read_recording(path)
      cache[name] = _zscore(signal, 0) if normalize == "recording" else signal
    signal = cache[name]
    start = int(row.get("start") or 0)
    end = int(row.get("end") or len(signal))
    span = signal[start:end]
    starts = np.arange(0, len(span) - window + 1, stride)
    if len(starts) == 0:
      skipped[row["label"]] = skipped.get(row["label"], 0) + 1
      continue
    xs.append(span[starts[:, None] + np.arange(window)[None, :]])
    labels += [row["label"]] * len(starts)
    domains += [row.get("domain") or ""] * len(starts)
    subjects += [row.get("subject") or ""] * len(starts)
    recording_ids += [list(cache).index(name)] * len(starts)
  if not xs:
    raise ValueError(f"{manifest_path}: no recording span holds one window of {window} samples "
                     f"(config.data.window); lower the window or check start/end")
  channels = {x.shape[-1] for x in xs}
  if len(channels) > 1:
    raise ValueError(f"{manifest_path}: recordings have different channel counts {sorted(channels)}")
  y, class_names = _codes(np.array(labels), None, "labels", str(manifest_path))
  out = {"x": np.concatenate(xs).astype(np.float32), "y": y, "class_names": class_names,
         "recording": np.array(recording_ids, np.int32), "skipped": skipped,
         "normalized": normalize == "recording"}
  if any(domains):
    out["domain"], out["domain_names"] = _codes(np.array(domains), None, "domains", str(manifest_path))
  if any(subjects):
    out["subject"] = _codes(np.array(subjects), None, "subjects", str(manifest_path))[0]
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


def _stratified(split, fraction, seed):
  counts = np.bincount(split["y"])
  stratify = len(counts[counts > 0]) > 1 and counts[counts > 0].min() >= 2
  return dataset_lib.random_split(split, fraction, seed, stratify=stratify)


def arrays_from_config(cfg) -> dict:
  """The windows `config.data` points at (npz, recordings folder) or synthesizes."""
  path = cfg.path
  if not path:
    return synthesize(num_classes=cfg.num_classes, windows_per_class=cfg.windows_per_class,
                      subjects=cfg.subjects, window=cfg.window, sampling_rate=cfg.sampling_rate,
                      channels=cfg.channels, separation=cfg.separation,
                      domain_shift=cfg.domain_shift, seed=cfg.synthetic_seed)
  fmt = cfg.format
  if fmt == "auto":
    fmt = "recordings" if os.path.isdir(path) else "npz"
  if fmt == "npz":
    return read_npz(path)
  if fmt == "recordings":
    return read_recordings(path, cfg.window, cfg.stride, cfg.manifest,
                           "recording" if cfg.normalize == "recording" else "none")
  raise ValueError(f"config.data.format must be auto, npz or recordings; found {fmt!r}")


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """The sEMG `Dataset` of `config.data` (splits from `cfg.split_seed`)."""
  del seed  # Splits have their own seed so that model seeds never move data between splits.
  arrays = arrays_from_config(cfg)
  x = arrays["x"]
  if not arrays.get("normalized"):  # the folder reader z-scores whole recordings itself
    x = normalize_windows(x, cfg.normalize, arrays.get("recording"))
  pool = {"x": x, "y": arrays["y"]}
  for key in ("domain", "subject"):
    if key in arrays:
      pool[key] = np.asarray(arrays[key], np.int32)
  domain_names = [str(n) for n in arrays.get("domain_names", [])]
  meta = {
      "source": cfg.path or "synthetic sEMG (research.data.semg.synthesize)",
      "class_names": [str(n) for n in arrays["class_names"]],
      "sampling_rate": float(cfg.sampling_rate),
      "feature_layout": [f"emg_{c}" for c in range(x.shape[-1])],
      "window": int(x.shape[1]),
      "normalize": cfg.normalize,
      "skipped": arrays.get("skipped", {}),
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
    train, val = _stratified(source, cfg.val_fraction, cfg.split_seed)
    meta.update(split="transfer", source_domain=cfg.source_domain, target_domain=cfg.target_domain)
  else:
    if cfg.source_domain and "domain" in pool and cfg.source_domain in domain_names:
      pool = dataset_lib.take(pool, pool["domain"] == domain_names.index(cfg.source_domain))
      meta["source_domain"] = cfg.source_domain
    rest, test = _stratified(pool, cfg.test_fraction, cfg.split_seed)
    train, val = _stratified(rest, cfg.val_fraction, cfg.split_seed)
    meta["split"] = "stratified"
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
  cfg.split_seed = 42
  # Embedded generator (used when path is "").
  cfg.num_classes = 4
  cfg.windows_per_class = 50  # per domain: 200 source windows, as the seed's ~200
  cfg.subjects = 5
  cfg.channels = 1
  cfg.separation = 0.5  # class envelopes/spectra blended halfway to a common one; 0 = no information
  cfg.domain_shift = 0.5  # strength of the L3 -> L4 shift (1 = gain x0.6, floor +0.25, -25 Hz)
  cfg.synthetic_seed = 0
  return cfg

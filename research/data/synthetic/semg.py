"""Synthetic sEMG windows: band-limited 20-450 Hz noise bursts with class-dependent envelopes
and spectra, subject variation and a source -> target domain shift (gain, noise floor,
electrode shift). `synthesize` returns arrays; `generate` writes them in the layouts
`research.data.formats.semg` reads (`launch/make_data.py semg`).
"""

from __future__ import annotations

import pathlib

import numpy as np

from research.data.errors import DataError
from research.data.formats.semg import write_recordings, write_windows

# Class prototypes: envelope family and spectral centre (Hz).
GESTURES = (
    ("rest", "tonic", 70.0),
    ("grip", "burst", 120.0),
    ("tap", "phasic", 95.0),
    ("extend", "ramp", 145.0),
    ("pinch", "double", 110.0),
    ("flex", "decay", 80.0),
)
BAND = (20.0, 450.0)  # Hz, the sEMG band the generator fills
VERSION = 1  # bump when the generated data change, so cached files are made again


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
  if not (windows_per_class >= 1 and subjects >= 1 and window >= 2 and sampling_rate > 0 and channels >= 1
          and 0.0 <= separation <= 1.0 and domains
          and all(d and d not in (".", "..") and not set(d) & set("/\\,") for d in domains)):
    raise DataError(f"semg synthesize: need windows_per_class, subjects, channels >= 1, window >= 2, "
                    f"sampling_rate > 0, 0 <= separation <= 1 and plain domain names; got "
                    f"windows_per_class={windows_per_class}, subjects={subjects}, window={window}, "
                    f"sampling_rate={sampling_rate}, channels={channels}, separation={separation}, "
                    f"domains={domains}", "bad_option")
  if not 2 <= num_classes <= len(GESTURES):
    raise DataError(f"semg synthesize: num_classes must be in 2..{len(GESTURES)}; got {num_classes}. "
                    "Choose a --num_classes in that range", "bad_option")
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


def generate(out_dir: str, layout: str = "npz", num_classes: int = 4, windows_per_class: int = 40,
             subjects: int = 5, window: int = 3000, sampling_rate: float = 1000.0, channels: int = 1,
             separation: float = 1.0, domain_shift: float = 1.0, domains: str = "L3,L4", seed: int = 0
             ) -> pathlib.Path:
  """`launch/make_data.py semg --out DIR [--layout npz|recordings] [--num_classes 4 ...]`.

  `npz` writes DIR/semg.npz; `recordings` writes one continuous `.npy` recording
  per (domain, subject, class) plus DIR/manifest.csv (every third as `.csv`, so
  both file kinds are exercised); windows laid end to end, so stride = window
  recovers them.
  """
  if layout not in ("npz", "recordings"):
    raise DataError(f"make_data semg: --layout must be npz or recordings; got {layout!r}", "bad_option")
  if isinstance(domains, str):
    domains = tuple(domains.split(","))
  data = synthesize(num_classes=num_classes, windows_per_class=windows_per_class, subjects=subjects,
                    window=window, sampling_rate=sampling_rate, channels=channels, separation=separation,
                    domain_shift=domain_shift, domains=tuple(domains), seed=seed)
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  if layout == "npz":
    return write_windows(out / "semg.npz", data["x"], data["y"], data["domain_names"][data["domain"]],
                         data["subject"], data["class_names"])
  recordings = []
  keys = sorted(set(zip(data["domain"].tolist(), data["subject"].tolist(), data["y"].tolist())))
  for i, (d, s, c) in enumerate(keys):
    pick = (data["domain"] == d) & (data["subject"] == s) & (data["y"] == c)
    name = f"{data['domain_names'][d]}_s{s}_{data['class_names'][c]}" + (".csv" if i % 3 == 2 else ".npy")
    recordings.append((name, data["x"][pick].reshape(-1, data["x"].shape[-1]),
                       {"label": data["class_names"][c], "domain": data["domain_names"][d], "subject": s}))
  return write_recordings(out, recordings)

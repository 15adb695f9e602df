"""Hand-made statistical features of sEMG windows, per channel.

The classic time-domain set (Hudgins et al.): mean absolute value (MAV), root
mean square (RMS), waveform length (WL, sum of |x[t+1] - x[t]|) and zero
crossings (ZC, sign changes whose step exceeds a threshold). Optional extras:
slope sign changes (SSC), variance (VAR), Willison amplitude (WAMP), and the
spectral mean and median frequencies (MNF, MDF, from the periodogram).
"""

from __future__ import annotations

import numpy as np

BASIC = ("mav", "rms", "wl", "zc")
EXTRA = ("ssc", "var", "wamp", "mnf", "mdf")


def _diff(x_NTC):
  return np.diff(x_NTC, axis=1)


def mav(x_NTC, **_):
  return np.abs(x_NTC).mean(1)


def rms(x_NTC, **_):
  return np.sqrt((x_NTC.astype(np.float64) ** 2).mean(1))


def wl(x_NTC, **_):
  return np.abs(_diff(x_NTC)).sum(1)


def zc(x_NTC, threshold: float = 0.0, **_):
  """Count of t with x[t] * x[t+1] < 0 and |x[t] - x[t+1]| >= threshold."""
  a, b = x_NTC[:, :-1], x_NTC[:, 1:]
  return ((a * b < 0) & (np.abs(a - b) >= threshold)).sum(1).astype(np.float64)


def ssc(x_NTC, threshold: float = 0.0, **_):
  """Count of t with (x[t] - x[t-1]) (x[t] - x[t+1]) > threshold."""
  prev, mid, nxt = x_NTC[:, :-2], x_NTC[:, 1:-1], x_NTC[:, 2:]
  return ((mid - prev) * (mid - nxt) > threshold).sum(1).astype(np.float64)


def var(x_NTC, **_):
  return x_NTC.astype(np.float64).var(1, ddof=1)


def wamp(x_NTC, threshold: float = 0.0, **_):
  """Count of t with |x[t+1] - x[t]| > threshold."""
  return (np.abs(_diff(x_NTC)) > threshold).sum(1).astype(np.float64)


def _power(x_NTC, sampling_rate):
  power = np.abs(np.fft.rfft(x_NTC - x_NTC.mean(1, keepdims=True), axis=1)) ** 2
  return np.fft.rfftfreq(x_NTC.shape[1], 1.0 / sampling_rate), power


def mnf(x_NTC, sampling_rate: float = 1000.0, **_):
  freqs, power = _power(x_NTC, sampling_rate)
  return (freqs[None, :, None] * power).sum(1) / np.maximum(power.sum(1), 1e-20)


def mdf(x_NTC, sampling_rate: float = 1000.0, **_):
  """The frequency below which half the spectral power lies."""
  freqs, power = _power(x_NTC, sampling_rate)
  cumulative = np.cumsum(power, axis=1)
  half = cumulative[:, -1:] / 2
  index = (cumulative < half).sum(1)
  return freqs[np.minimum(index, len(freqs) - 1)]


FEATURES = {"mav": mav, "rms": rms, "wl": wl, "zc": zc, "ssc": ssc, "var": var, "wamp": wamp,
            "mnf": mnf, "mdf": mdf}


def extract(x, names=BASIC, *, threshold: float = 0.0, sampling_rate: float = 1000.0):
  """(N, T) or (N, T, C) windows -> (N, len(names) * C) float32, feature-major.

  Column order: for each name, channels 0..C-1 (see `feature_names`).
  """
  x_NTC = np.asarray(x, np.float32)
  if x_NTC.ndim == 2:
    x_NTC = x_NTC[:, :, None]
  if x_NTC.ndim != 3:
    raise ValueError(f"features.extract: windows must be (N, T) or (N, T, C); found {x_NTC.shape}")
  unknown = [n for n in names if n not in FEATURES]
  if unknown:
    raise ValueError(f"Unknown features {unknown} (config.features.names); valid: {sorted(FEATURES)}")
  columns = [FEATURES[n](x_NTC, threshold=threshold, sampling_rate=sampling_rate) for n in names]
  return np.concatenate(columns, axis=1).astype(np.float32)


def feature_names(names, channels: int) -> list[str]:
  return [f"{n}_ch{c}" for n in names for c in range(channels)]

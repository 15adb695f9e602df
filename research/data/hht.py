"""Hilbert-Huang transform: a signal -> a (time bins, frequency bins) amplitude image.

1. Empirical mode decomposition (EMD-signal's `PyEMD.EMD`, cubic-spline sifting)
   splits the signal into intrinsic mode functions (IMFs); the final residue is a
   trend, not an oscillation, and is left out.
2. Each IMF's analytic signal (`scipy.signal.hilbert`) gives its instantaneous
   amplitude |a(t)| and frequency f(t) = (d/dt unwrapped phase) / 2 pi.
3. Every (sample, IMF) pair adds its amplitude to the cell (time bin of the sample,
   frequency bin of f); each cell is then divided by the samples in its time bin,
   so a cell holds mean amplitude and a pure tone of amplitude A puts about A in
   its row of cells. Frequencies outside [freq_min, freq_max) are dropped.

The loader keeps one image per (file contents, settings, HHT version) in the data cache
(research.data.hht_inputs.cached_hht_image).
"""

from __future__ import annotations

import dataclasses
from importlib import metadata

import numpy as np

# Bump when the image computation changes, so stale cache entries are never read.
HHT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class HHTSettings:
  """How a signal becomes an image. freq_max 0 means the Nyquist frequency fs / 2."""
  time_bins: int = 256
  freq_bins: int = 256
  freq_min: float = 0.0  # Hz, lower edge of the first frequency bin
  freq_max: float = 0.0  # Hz, upper edge of the last bin; 0 = fs / 2
  max_imf: int = -1  # IMFs to extract; -1 = until the residue is monotonic

  def frequency_range(self, sampling_rate: float) -> tuple[float, float]:
    high = self.freq_max if self.freq_max > 0 else sampling_rate / 2
    if not 0 <= self.freq_min < high:
      raise ValueError(f"HHT frequency range [{self.freq_min}, {high}) Hz is empty or negative "
                       f"(sampling rate {sampling_rate} Hz); set data.freq_min < data.freq_max")
    return float(self.freq_min), float(high)

  def bin_edges(self, sampling_rate: float) -> np.ndarray:
    """The freq_bins + 1 frequency bin edges in Hz."""
    low, high = self.frequency_range(sampling_rate)
    return np.linspace(low, high, self.freq_bins + 1)


def emd(signal_N: np.ndarray, max_imf: int = -1) -> np.ndarray:
  """The IMFs (K, N) of a 1-D signal, residue excluded (K >= 1)."""
  from PyEMD.EMD import EMD  # pylint: disable=g-import-not-at-top  # 2 s import: only when needed
  decomposer = EMD()
  decomposer.emd(np.asarray(signal_N, np.float64), max_imf=max_imf)
  imfs_KN, _ = decomposer.get_imfs_and_residue()
  if len(imfs_KN) == 0:  # A monotonic signal has no oscillation: one all-zero IMF.
    imfs_KN = np.zeros((1, len(signal_N)))
  return imfs_KN


def instantaneous(imfs_KN: np.ndarray, sampling_rate: float) -> tuple[np.ndarray, np.ndarray]:
  """(amplitude (K, N), frequency in Hz (K, N)) of each IMF's analytic signal."""
  from scipy import signal as scipy_signal  # here: importing it costs every run that reads no HHT
  analytic_KN = scipy_signal.hilbert(imfs_KN, axis=-1)
  amplitude_KN = np.abs(analytic_KN)
  phase_KN = np.unwrap(np.angle(analytic_KN), axis=-1)
  frequency_KN = np.gradient(phase_KN, axis=-1) * sampling_rate / (2 * np.pi)
  return amplitude_KN, frequency_KN


def hilbert_image(amplitude_KN, frequency_KN, sampling_rate: float,
                  settings: HHTSettings) -> np.ndarray:
  """Mean amplitude per (time bin, frequency bin): float32 (time_bins, freq_bins)."""
  num_samples = amplitude_KN.shape[-1]
  if num_samples < settings.time_bins:
    raise ValueError(f"HHT: a signal of {num_samples} samples cannot fill {settings.time_bins} time bins; "
                     "use a longer signal or fewer bins (data.image_size)")
  low, high = settings.frequency_range(sampling_rate)
  time_N = (np.arange(num_samples) * settings.time_bins) // num_samples
  time_KN = np.broadcast_to(time_N, amplitude_KN.shape)
  freq_KN = np.floor((frequency_KN - low) / (high - low) * settings.freq_bins).astype(np.int64)
  keep = (freq_KN >= 0) & (freq_KN < settings.freq_bins) & np.isfinite(frequency_KN)
  cells = time_KN[keep] * settings.freq_bins + freq_KN[keep]
  total = np.bincount(cells, weights=amplitude_KN[keep],
                      minlength=settings.time_bins * settings.freq_bins)
  per_bin = np.bincount(time_N, minlength=settings.time_bins)
  image = total.reshape(settings.time_bins, settings.freq_bins) / per_bin[:, None]
  return image.astype(np.float32)


def hht_image(signal_N: np.ndarray, sampling_rate: float, settings: HHTSettings) -> np.ndarray:
  """The whole transform: 1-D signal -> float32 (time_bins, freq_bins) amplitude image."""
  signal_N = np.asarray(signal_N)
  if signal_N.ndim != 1:
    raise ValueError(f"HHT expects a 1-D signal; found shape {signal_N.shape}. "
                     "Store one channel per file.")
  if not sampling_rate > 0:
    raise ValueError(f"HHT needs a positive sampling rate; found {sampling_rate}")
  imfs_KN = emd(signal_N, settings.max_imf)
  amplitude_KN, frequency_KN = instantaneous(imfs_KN, sampling_rate)
  return hilbert_image(amplitude_KN, frequency_KN, sampling_rate, settings)


def emd_version() -> str:
  """The installed EMD-signal version (part of a cached image's key)."""
  try:
    return metadata.version("EMD-signal")
  except metadata.PackageNotFoundError:
    return "unknown"

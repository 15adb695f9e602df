"""Feature maps a head can be fitted on when no network provides the features.

A feature map turns a split ({'x', optional 'mask'}) into (N, D) features. Its
fitted state (none for the hand-made features) is plain arrays, stored beside
the head. The network's own `encode` output is the other source of features,
provided by the run itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from research.heads import features as features_lib


@dataclasses.dataclass
class Handmade:
  """Hand-made time-domain (and spectral) sEMG features per channel (research.heads.features)."""
  names: tuple[str, ...] = features_lib.BASIC
  threshold: float = 0.0  # ZC/SSC/WAMP amplitude threshold (units of x)
  sampling_rate: float = 1000.0  # Hz, for the spectral features

  kind = "handmade"

  def __post_init__(self):
    self.names = tuple(self.names)
    unknown = [n for n in self.names if n not in features_lib.FEATURES]
    if unknown:
      raise ValueError(f"Unknown features {unknown} (config.features.names); valid: {sorted(features_lib.FEATURES)}")

  def fit(self, split: dict) -> "Handmade":
    del split  # Nothing is learned from the data.
    return self

  def transform(self, split: dict) -> np.ndarray:
    return features_lib.extract(split["x"], self.names, threshold=self.threshold,
                                sampling_rate=self.sampling_rate)

  def settings(self) -> dict[str, Any]:
    return {"kind": self.kind, "names": list(self.names), "threshold": self.threshold,
            "sampling_rate": self.sampling_rate}

  def arrays(self) -> dict[str, np.ndarray]:
    return {}

  @classmethod
  def from_arrays(cls, settings: dict, arrays: dict) -> "Handmade":
    del arrays
    return cls(**{k: v for k, v in settings.items() if k != "kind"})

  def jax_fn(self):
    return None  # The forest that uses them is exported to C, with the features in C.


def from_config(config, meta: dict) -> Handmade:
  cfg = config.features
  return Handmade(names=tuple(cfg.names), threshold=float(cfg.threshold),
                  sampling_rate=float(meta.get("sampling_rate") or 1000.0))

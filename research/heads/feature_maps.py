"""Feature maps a head can be fitted on when no network provides the features.

A feature map turns a split ({'x', optional 'mask'}) into (N, D) features. Its
fitted state (none for the hand-made features) is plain arrays, stored beside
the head. The network's own `encode` output is the other source of features,
provided by the run itself.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from research.heads import features as features_lib
from research.heads import minirocket


def stored_params(arrays: dict, keys, what: str, prefix: str = "") -> dict[str, np.ndarray]:
  """The fitted arrays `keys` (stored as prefix + key) of a feature map, or a ValueError naming the missing."""
  missing = [prefix + k for k in keys if prefix + k not in arrays]
  if missing:
    raise ValueError(f"{what} features: the stored arrays lack {missing}")
  return {k: np.asarray(arrays[prefix + k]) for k in keys}


def stored_settings(settings: dict) -> dict:
  """A feature map's stored settings as its constructor's arguments (without the kind)."""
  return {k: v for k, v in settings.items() if k != "kind"}


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
    return cls(**stored_settings(settings))

  def jax_fn(self):
    return None  # The forest that uses them is exported to C, with the features in C.


def from_config(config, meta: dict) -> Handmade:
  cfg = config.features
  return Handmade(names=tuple(cfg.names), threshold=float(cfg.threshold),
                  sampling_rate=float(meta.get("sampling_rate") or 1000.0))


@dataclasses.dataclass
class MiniRocket:
  """MiniRocket's ~10,000 PPV features (research.heads.minirocket), fitted on the training split.

  `use_mask`: False (default) reads padded unequal-length series as zero-padded, as the
  reference implementations are run on them; True treats each series as if given alone.
  Measured (benchmarks/small_data.py): padded 0.989 / 0.860, masked 0.981 / 0.760 test accuracy
  on JapaneseVowels / PickupGestureWiimoteZ.
  """
  num_features: int = 10_000
  max_dilations_per_kernel: int = 32
  use_mask: bool = False
  seed: int = 0
  params: dict | None = dataclasses.field(default=None, repr=False)

  kind = "minirocket"
  threshold_counts = True  # PPV: a proportion of outputs above a bias (the export judges parity by class)
  # Measured: LiteRT aborts the process while allocating the int8 graph of the PPV features, and a
  # proportion of values above a bias is what full-integer quantization would blur anyway.
  refused_modes = {"int8": "MiniRocket's PPV features (comparisons of convolutions with biases) have no "
                           "working full-integer form (LiteRT aborts allocating it); dynamic and float16 "
                           "quantize the weights only"}

  def _mask(self, split: dict):
    return split.get("mask") if self.use_mask else None

  def fit(self, split: dict) -> "MiniRocket":
    self.params = minirocket.fit(split["x"], self._mask(split), num_features=self.num_features,
                                 max_dilations_per_kernel=self.max_dilations_per_kernel, seed=self.seed)
    self.__dict__.pop("_batched", None)  # made for the previous parameters
    return self

  @functools.cached_property
  def _batched(self):
    return minirocket.batched(self.params)

  def transform(self, split: dict) -> np.ndarray:
    return self._batched(split["x"], self._mask(split))

  def settings(self) -> dict[str, Any]:
    return {"kind": self.kind, "num_features": self.num_features,
            "max_dilations_per_kernel": self.max_dilations_per_kernel, "use_mask": self.use_mask,
            "seed": self.seed}

  def arrays(self) -> dict[str, np.ndarray]:
    return dict(self.params)

  @classmethod
  def from_arrays(cls, settings: dict, arrays: dict) -> "MiniRocket":
    return cls(**stored_settings(settings), params=stored_params(arrays, minirocket.PARAM_KEYS, "MiniRocket"))

  def jax_fn(self):
    """x (B, T, C) -> features in JAX (full windows, as exported models take them)."""
    return functools.partial(minirocket.transform, self.params)


def minirocket_from_config(config, meta: dict) -> MiniRocket:
  cfg = config.features
  return MiniRocket(num_features=int(cfg.num_features), max_dilations_per_kernel=int(cfg.max_dilations_per_kernel),
                    use_mask=bool(cfg.get("use_mask", False)), seed=int(config.seed))

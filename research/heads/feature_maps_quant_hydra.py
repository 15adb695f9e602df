"""Feature maps of the interval and dictionary-convolution families: QUANT and MultiRocket-Hydra.

Same interface as research.heads.feature_maps (fit / transform / settings / arrays / from_arrays /
jax_fn); kept in their own module so that feature_maps.py stays about MiniRocket and hand-made
features.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from research.heads import quant


@dataclasses.dataclass
class Quant:
  """QUANT's quantile features (research.heads.quant); the fit records the series' length.

  Unequal-length series are read zero-padded to the training array's length (QUANT places its
  intervals on one length); `config.features.use_mask=True` is refused, since a series "alone"
  would have a different set of intervals.
  """
  depth: int = 6  # interval levels: 1, 2, 4, ... 2**(depth - 1) intervals
  divisor: int = 4  # an interval of w frames gives 1 + (w - 1) // divisor quantiles
  params: dict | None = dataclasses.field(default=None, repr=False)

  kind = "quant"

  def fit(self, split: dict) -> "Quant":
    self.params = quant.fit(split["x"], depth=self.depth, divisor=self.divisor)
    return self

  @functools.cached_property
  def _batched(self):
    return quant.batched(self.params)

  def transform(self, split: dict) -> np.ndarray:
    return self._batched(split["x"])

  def settings(self) -> dict[str, Any]:
    return {"kind": self.kind, "depth": self.depth, "divisor": self.divisor}

  def arrays(self) -> dict[str, np.ndarray]:
    return dict(self.params)

  @classmethod
  def from_arrays(cls, settings: dict, arrays: dict) -> "Quant":
    missing = [k for k in quant.PARAM_KEYS if k not in arrays]
    if missing:
      raise ValueError(f"QUANT features: the stored arrays lack {missing}")
    return cls(**{k: v for k, v in settings.items() if k != "kind"},
               params={k: np.asarray(arrays[k]) for k in quant.PARAM_KEYS})

  def jax_fn(self):
    return None  # Its sorts have no TFLite builtin: QUANT is for a C back end (not written yet).


def quant_from_config(config, meta: dict) -> Quant:
  del meta
  cfg = config.features
  if bool(cfg.get("use_mask", False)):
    raise ValueError("config.features.use_mask=True: QUANT has no per-series form (its intervals and "
                     "quantile counts depend on the length); set it to False to read the zero-padded series")
  return Quant(depth=int(cfg.depth), divisor=int(cfg.divisor))

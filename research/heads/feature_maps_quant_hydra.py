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

from research.heads import feature_maps
from research.heads import hydra
from research.heads import minirocket
from research.heads import multirocket
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
    self.__dict__.pop("_batched", None)  # made for the previous parameters
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
    return cls(**feature_maps.stored_settings(settings), params=feature_maps.stored_params(arrays, quant.PARAM_KEYS,
                                                                                          "QUANT"))

  def jax_fn(self):
    return None  # Its sorts have no TFLite builtin: QUANT exports as C (research/export/c/quant.py).


def quant_from_config(config, meta: dict) -> Quant:
  del meta
  cfg = config.features
  if bool(cfg.get("use_mask", False)):
    raise ValueError("config.features.use_mask=True: QUANT has no per-series form (its intervals and "
                     "quantile counts depend on the length); set it to False to read the zero-padded series")
  return Quant(depth=int(cfg.depth), divisor=int(cfg.divisor))


def _sparse_scale(raw_ND, mean_D, std_D):
  """Hydra's scaling (aeon's `_SparseScaler`): on sqrt(max(x, 0)), zeros stay zero."""
  root = np.sqrt(np.clip(raw_ND, 0, None))
  return (root - mean_D) * (root != 0) / std_D


@dataclasses.dataclass
class MultiRocketHydra:
  """Hydra and MultiRocket features side by side, each scaled on the training split as aeon's
  `MultiRocketHydraClassifier` does: Hydra's counts by the sparse scaler (square root, mean and
  sample std + (fraction of zeros)**4 + 1e-8, zeros kept at zero), MultiRocket's by a standard
  scaler (mean, population std, near-constant features unscaled). Read zero-padded: use_mask is
  refused. The head is the leave-one-out ridge without its own scaling (config.head.ridge).
  """
  multirocket_features: int = 6_250  # per representation (aeon's n_kernels): 84 x 74 used
  max_dilations_per_kernel: int = 32
  hydra_kernels: int = 8  # kernels per group
  hydra_groups: int = 64  # half on the series, half on its difference
  seed: int = 0
  params: dict | None = dataclasses.field(default=None, repr=False)
  # (training x, its scaled features) from fit, so the run's features of that split are not redone.
  _fitted_on: tuple | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

  kind = "multirocket_hydra"

  @functools.cached_property
  def _batched(self):
    return hydra.batched(self.params["hydra"]), multirocket.batched(self.params["multirocket"])

  def _raw(self, x_NTC):
    """Unscaled (Hydra counts, MultiRocket pooled features), float64."""
    return tuple(np.asarray(batched(x_NTC), np.float64) for batched in self._batched)

  def fit(self, split: dict) -> "MultiRocketHydra":
    x = np.asarray(split["x"], np.float32)
    self.params = {"hydra": hydra.fit(x, kernels=self.hydra_kernels, groups=self.hydra_groups, seed=self.seed),
                   "multirocket": multirocket.fit(x, num_features=self.multirocket_features,
                                                  max_dilations_per_kernel=self.max_dilations_per_kernel,
                                                  seed=self.seed)}
    self.__dict__.pop("_batched", None)  # compiled for the previous parameters
    counts, pooled = self._raw(x)
    root = np.sqrt(np.clip(counts, 0, None))
    pooled_std = pooled.std(0)
    self.params["scale"] = {
        "hydra_mean": root.mean(0),
        "hydra_std": root.std(0, ddof=1) + (root == 0).mean(0) ** 4 + 1e-8,
        "multirocket_mean": pooled.mean(0),
        "multirocket_std": np.where(pooled_std < 10 * np.finfo(np.float64).eps, 1.0, pooled_std)}
    self._fitted_on = (x, self._scaled(counts, pooled))
    return self

  def _scaled(self, counts, pooled):
    s = self.params["scale"]
    return np.concatenate([_sparse_scale(counts, s["hydra_mean"], s["hydra_std"]),
                           (pooled - s["multirocket_mean"]) / s["multirocket_std"]], axis=1)

  def transform(self, split: dict) -> np.ndarray:
    x = np.asarray(split["x"], np.float32)
    if self._fitted_on is not None and self._fitted_on[0].shape == x.shape and np.array_equal(self._fitted_on[0], x):
      return self._fitted_on[1]  # the training split again: its features were made by fit
    return self._scaled(*self._raw(x))

  def settings(self) -> dict[str, Any]:
    return {"kind": self.kind, "multirocket_features": self.multirocket_features,
            "max_dilations_per_kernel": self.max_dilations_per_kernel, "hydra_kernels": self.hydra_kernels,
            "hydra_groups": self.hydra_groups, "seed": self.seed}

  def arrays(self) -> dict[str, np.ndarray]:
    p = self.params
    return {**{f"hydra.{k}": v for k, v in p["hydra"].items()},
            **{f"{r}.{k}": v for r in multirocket.REPRESENTATIONS for k, v in p["multirocket"][r].items()},
            **{f"scale.{k}": v for k, v in p["scale"].items()}}

  @classmethod
  def from_arrays(cls, settings: dict, arrays: dict) -> "MultiRocketHydra":
    group = lambda prefix, keys: feature_maps.stored_params(arrays, keys, "MultiRocket-Hydra", f"{prefix}.")
    params = {"hydra": group("hydra", hydra.PARAM_KEYS),
              "multirocket": {r: group(r, minirocket.PARAM_KEYS) for r in multirocket.REPRESENTATIONS},
              "scale": group("scale", ("hydra_mean", "hydra_std", "multirocket_mean", "multirocket_std"))}
    return cls(**feature_maps.stored_settings(settings), params=params)

  def jax_fn(self):
    return None  # Exported as C (research/export/c/multirocket_hydra.py: why not TFLite is written there).


def multirocket_hydra_from_config(config, meta: dict) -> MultiRocketHydra:
  del meta
  cfg = config.features
  if bool(cfg.get("use_mask", False)):
    raise ValueError("config.features.use_mask=True: MultiRocket-Hydra reads unequal-length series "
                     "zero-padded (no per-series form yet); set it to False")
  return MultiRocketHydra(multirocket_features=int(cfg.multirocket_features),
                          max_dilations_per_kernel=int(cfg.max_dilations_per_kernel),
                          hydra_kernels=int(cfg.hydra_kernels), hydra_groups=int(cfg.hydra_groups),
                          seed=int(config.seed))

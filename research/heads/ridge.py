"""Ridge classifier with leave-one-out choice of the regularisation, closed form in JAX.

What scikit-learn's `RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))` does after
`StandardScaler(with_mean=False)`, the pipeline of aeon's `MiniRocketClassifier`:
  1. scale each feature by its standard deviation (population, no centring: the intercept
     centres anyway); near-constant features keep scale 1 (scikit-learn's rule);
  2. one-vs-rest targets +1 / -1 for every class (a two-class problem gives two mirrored
     columns, which selects the same alpha and decision as scikit-learn's single column);
  3. centre features and targets (the intercept), eigendecompose the Gram matrix X X' when
     N <= D, else the covariance X' X, and get the leave-one-out errors of every alpha from
     that one decomposition (Rifkin & Lippert 2007, as scikit-learn's `_RidgeGCV`);
  4. keep the alpha with the smallest mean squared leave-one-out error (the first on ties).
The fit runs in float64 (as scikit-learn does); `jax_fn` is float32.

Probabilities: softmax(temperature * decision). The temperature is fitted on the training set's
leave-one-out decision values (which the decomposition gives for free) by minimising their
log-loss over a log-spaced grid in [1e-2, 1e2]; it never changes the predicted class.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 10))
TEMPERATURES = np.logspace(-2, 2, 401)
ARRAY_KEYS = ("scale", "coef", "intercept", "temperature")


def _scale(x_ND):
  """Standard deviations with scikit-learn's near-constant rule (StandardScaler(with_mean=False))."""
  n = x_ND.shape[0]
  mean = x_ND.mean(0)
  var = ((x_ND - mean) ** 2).mean(0)
  eps = jnp.finfo(jnp.float64).eps
  constant = var <= n * eps * var + (n * mean * eps) ** 2
  return jnp.where(constant, 1.0, jnp.sqrt(var))


def _loo_errors_gram(x_ND, y_NC, alphas):
  """LOO errors (A, N, C) and coefficients (A, D, C) from the eigendecomposition of X X'."""
  eigvals, q = jnp.linalg.eigh(x_ND @ x_ND.T)
  qt_y, qt_one = q.T @ y_NC, q.sum(0)
  n = x_ND.shape[0]

  def one(alpha):
    inv = 1.0 / (eigvals + alpha)
    c_NC = q @ (inv[:, None] * qt_y)
    d_N = (inv * q ** 2).sum(1) - (q @ (inv * qt_one)) / n  # the intercept's correction
    return c_NC / d_N[:, None], x_ND.T @ c_NC

  return jax.vmap(one)(alphas)


def _loo_errors_covariance(x_ND, y_NC, alphas):
  """LOO errors (A, N, C) and coefficients (A, D, C) from the eigendecomposition of X' X."""
  eigvals, v = jnp.linalg.eigh(x_ND.T @ x_ND)
  xt_y, xt_one = x_ND.T @ y_NC, x_ND.sum(0)
  n = x_ND.shape[0]

  def one(alpha):
    h_inv = (v / (eigvals + alpha)) @ v.T
    coef_DC = h_inv @ xt_y
    alpha_c = y_NC - x_ND @ coef_DC
    alpha_d = 1.0 - ((x_ND @ h_inv) * x_ND).sum(1) - (1.0 - x_ND @ (h_inv @ xt_one)) / n
    return alpha_c / alpha_d[:, None], coef_DC

  return jax.vmap(one)(alphas)


def _log_loss(logits_NC, labels_N):
  return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits_NC), labels_N[:, None], 1))


@functools.partial(jax.jit, static_argnames=("num_classes", "standardize"))
def _fit_arrays(x_ND, labels_N, alphas_A, *, num_classes: int, standardize: bool):
  """Scale, coefficients, intercept, LOO mean squared error per alpha and the temperature."""
  scale_D = _scale(x_ND) if standardize else jnp.ones(x_ND.shape[1], x_ND.dtype)
  x_ND = x_ND / scale_D
  y_NC = jnp.where(labels_N[:, None] == jnp.arange(num_classes), 1.0, -1.0)
  x_mean, y_mean = x_ND.mean(0), y_NC.mean(0)
  solve = _loo_errors_gram if x_ND.shape[0] <= x_ND.shape[1] else _loo_errors_covariance
  looe_ANC, coef_ADC = solve(x_ND - x_mean, y_NC - y_mean, alphas_A)
  # Classes absent from training do not count: scikit-learn has no column for them.
  present_C = (labels_N[:, None] == jnp.arange(num_classes)).any(0)
  loo_mse_A = (looe_ANC ** 2 * present_C).sum((1, 2)) / (x_ND.shape[0] * present_C.sum())
  best = jnp.argmin(loo_mse_A)  # the first on ties, as scikit-learn
  coef_DC = coef_ADC[best]
  loo_decision_NC = y_NC - looe_ANC[best]
  temperatures = jnp.asarray(TEMPERATURES)
  losses = jax.vmap(lambda t: _log_loss(t * loo_decision_NC, labels_N))(temperatures)
  return scale_D, coef_DC, y_mean - x_mean @ coef_DC, loo_mse_A, temperatures[jnp.argmin(losses)]


@dataclasses.dataclass
class RidgeClassifierCV:
  """fit(features (N, D), labels (N,) in 0..num_classes-1) -> decision / predict_proba (N, C).

  A class absent from training gets target -1 everywhere, so it is (practically) never predicted;
  it does not count in the leave-one-out error (scikit-learn has no column for it).
  """
  num_classes: int
  alphas: tuple[float, ...] = DEFAULT_ALPHAS
  standardize: bool = True  # StandardScaler(with_mean=False) before the ridge, as aeon
  alpha: float | None = None  # fitted
  loo_mse: tuple[float, ...] | None = None  # fitted: mean squared LOO error of each alpha
  fitted: dict[str, np.ndarray] | None = dataclasses.field(default=None, repr=False)

  def fit(self, features_ND, labels_N) -> "RidgeClassifierCV":
    features_ND = np.asarray(features_ND, np.float64)
    labels_N = np.asarray(labels_N)
    if features_ND.ndim != 2 or labels_N.shape != features_ND.shape[:1]:
      raise ValueError(f"RidgeClassifierCV.fit: need features (N, D) and labels (N,); found "
                       f"{features_ND.shape} and {labels_N.shape}")
    if not np.issubdtype(labels_N.dtype, np.integer) or labels_N.min() < 0 or \
        labels_N.max() >= self.num_classes:
      raise ValueError(f"RidgeClassifierCV.fit: labels must be integers in [0, {self.num_classes}); "
                       f"found {labels_N.dtype} {labels_N.min()}..{labels_N.max()}")
    if len(np.unique(labels_N)) < 2:
      raise ValueError("RidgeClassifierCV.fit: the labels hold a single class; a classifier needs two")
    with jax.enable_x64(True):
      scale_D, coef_DC, intercept_C, loo_mse_A, temperature = (np.asarray(a) for a in _fit_arrays(
          jnp.asarray(features_ND), jnp.asarray(labels_N), jnp.asarray(self.alphas, jnp.float64),
          num_classes=self.num_classes, standardize=self.standardize))
    self.alpha = float(self.alphas[int(np.argmin(loo_mse_A))])
    self.loo_mse = tuple(float(v) for v in loo_mse_A)
    self.fitted = {"scale": scale_D, "coef": coef_DC, "intercept": intercept_C, "temperature": temperature}
    return self

  def _check_fitted(self):
    if self.fitted is None:
      raise ValueError("RidgeClassifierCV: call fit (or from_arrays) before predicting")

  def decision(self, features_ND) -> np.ndarray:
    """Decision values (N, C) in target units (+1 = this class, -1 = another)."""
    self._check_fitted()
    f = self.fitted
    return (np.asarray(features_ND, np.float64) / f["scale"]) @ f["coef"] + f["intercept"]

  def predict_proba(self, features_ND) -> np.ndarray:
    self._check_fitted()
    logits = self.fitted["temperature"] * self.decision(features_ND)
    logits = logits - logits.max(1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(1, keepdims=True)

  def predict(self, features_ND) -> np.ndarray:
    return self.decision(features_ND).argmax(1)

  def settings(self) -> dict:
    """JSON-ready description: what was fitted and how."""
    self._check_fitted()
    return {"kind": "ridge_cv", "num_classes": self.num_classes, "alphas": list(self.alphas),
            "standardize": self.standardize, "alpha": self.alpha, "loo_mse": list(self.loo_mse or ()),
            "temperature": float(self.fitted["temperature"]),
            "num_features": int(self.fitted["coef"].shape[0])}

  def arrays(self) -> dict[str, np.ndarray]:
    """Fitted arrays (scale (D,), coef (D, C), intercept (C,), temperature ()), float64."""
    self._check_fitted()
    return dict(self.fitted)

  @classmethod
  def from_arrays(cls, settings: dict, arrays: dict) -> "RidgeClassifierCV":
    missing = [k for k in ARRAY_KEYS if k not in arrays]
    if missing:
      raise ValueError(f"RidgeClassifierCV.from_arrays: arrays lack {missing}; expected {ARRAY_KEYS}")
    head = cls(num_classes=int(settings["num_classes"]), alphas=tuple(settings["alphas"]),
               standardize=bool(settings["standardize"]), alpha=settings["alpha"],
               loo_mse=tuple(settings.get("loo_mse", ())))
    head.fitted = {k: np.asarray(arrays[k], np.float64) for k in ARRAY_KEYS}
    return head

  def jax_fn(self):
    """Pure float32 JAX function features (N, D) -> {'probs', 'decision'} (N, C), arrays closed over.

    The scale is folded into the coefficients (one matrix product), for TFLite export.
    """
    self._check_fitted()
    f = self.fitted
    coef = jnp.asarray(f["coef"] / f["scale"][:, None], jnp.float32)
    intercept = jnp.asarray(f["intercept"], jnp.float32)
    temperature = np.float32(f["temperature"])

    def fn(features_ND):
      decision = jnp.asarray(features_ND, jnp.float32) @ coef + intercept
      return {"probs": jax.nn.softmax(temperature * decision, axis=-1), "decision": decision}

    return fn


@dataclasses.dataclass
class RidgeHead(RidgeClassifierCV):
  """`RidgeClassifierCV` as a run's head (`config.head.kind = "ridge"`): stored as its arrays."""
  seed: int = 0  # the fit has no random choice; kept for the heads' common signature

  kind = "ridge"
  expected_objects = {key: np.ndarray for key in ARRAY_KEYS}

  fit_info: dict = dataclasses.field(default_factory=dict, repr=False)

  def fit(self, features_ND, labels_N) -> "RidgeHead":
    super().fit(features_ND, labels_N)
    self.fit_info = {"alpha": self.alpha, "loo_mse": list(self.loo_mse),
                     "temperature": float(self.fitted["temperature"])}
    return self

  def settings(self) -> dict:
    if self.fitted is None:
      return {"kind": self.kind, "num_classes": self.num_classes, "alphas": list(self.alphas),
              "standardize": self.standardize, "seed": self.seed}
    return {**super().settings(), "kind": self.kind, "seed": self.seed}

  def objects(self) -> dict[str, np.ndarray]:
    return self.arrays()

  @classmethod
  def from_objects(cls, settings: dict, objects: dict) -> "RidgeHead":
    head = cls.from_arrays(settings, objects)
    head.seed = int(settings.get("seed", 0))
    return head

  def export_notes(self) -> list[str]:
    return [f"Ridge classifier (alpha {self.alpha:.3g} by leave-one-out, softmax temperature "
            f"{float(self.fitted['temperature']):.3g}) as one dense layer."]

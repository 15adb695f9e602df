"""Sequence (or scalar) regression with mean squared error."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp


def _mean_per_example(values, batch):
  """Mean over every axis but the first, counting only valid time steps."""
  values = values.reshape(values.shape[0], values.shape[1] if values.ndim > 1 else 1, -1)
  if "mask" in batch:
    valid = batch["mask"].astype(values.dtype)[:, :, None]
    return (values * valid).sum((1, 2)) / jnp.maximum(valid.sum((1, 2)) * values.shape[2], 1)
  return values.mean((1, 2))


@dataclasses.dataclass(frozen=True)
class Regression:
  """Targets `y` shaped like the model output; loss is the MSE."""

  def losses(self, outputs, batch):
    return _mean_per_example((outputs - batch["y"]) ** 2, batch)

  def metrics(self, outputs, batch):
    error = outputs - batch["y"]
    return {"mse": _mean_per_example(error ** 2, batch),
            "mae": _mean_per_example(jnp.abs(error), batch)}

  def predict(self, outputs):
    return {"value": outputs}

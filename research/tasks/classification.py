"""Single-label classification from logits: cross-entropy, accuracy, softmax probabilities."""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class Classification:
  """Outputs are logits (B, C); `batch['y']` holds int labels (B,).

  label_smoothing: the target is (1 - s) one_hot + s / C (Keras' and optax's convention).
  class_weights:   one weight per class, multiplying each example's loss by the weight of
                   its true class (Keras' `class_weight`); None or () for none.
  """
  label_smoothing: float = 0.0
  class_weights: Optional[tuple[float, ...]] = None

  def __post_init__(self):
    if not 0.0 <= self.label_smoothing < 1.0:
      raise ValueError(f"config.task.label_smoothing must lie in [0, 1); found {self.label_smoothing}")
    if self.class_weights is not None and len(self.class_weights) == 0:
      object.__setattr__(self, "class_weights", None)
    if self.class_weights is not None:
      object.__setattr__(self, "class_weights", tuple(float(w) for w in self.class_weights))

  def _check(self, logits_BC):
    if logits_BC.ndim != 2:
      raise ValueError(f"Classification expects logits shaped (batch, classes); found {logits_BC.shape}. "
                       "Sequence models must pool or take the last state before the head.")
    if self.class_weights is not None and len(self.class_weights) != logits_BC.shape[-1]:
      raise ValueError(f"config.task.class_weights has {len(self.class_weights)} entries but the model "
                       f"outputs {logits_BC.shape[-1]} classes; give one weight per class")

  def losses(self, outputs, batch):
    import optax  # only where a network trains: a head-only run does not import it (train/specs.py)
    logits_BC = outputs
    self._check(logits_BC)
    num_classes = logits_BC.shape[-1]
    labels_B = batch["y"].astype(jnp.int32)
    target_BC = jax.nn.one_hot(labels_B, num_classes, dtype=logits_BC.dtype)
    if self.label_smoothing:
      target_BC = optax.smooth_labels(target_BC, self.label_smoothing)
    loss_B = optax.softmax_cross_entropy(logits_BC, target_BC)
    if self.class_weights is not None:
      loss_B = loss_B * jnp.asarray(self.class_weights, logits_BC.dtype)[labels_B]
    return loss_B

  def metrics(self, outputs, batch):
    logits_BC = outputs
    self._check(logits_BC)
    correct_B = jnp.argmax(logits_BC, axis=-1) == batch["y"].astype(jnp.int32)
    return {"accuracy": correct_B.astype(jnp.float32)}

  def predict(self, outputs):
    return {"probs": jax.nn.softmax(outputs, axis=-1)}

"""Task `classify_and_segment`: one class per window + per-frame event starts (the workout tracker:
exercise class and repetition starts).

Outputs: {'logits': (B, C), 'seg_logits': (B, T)}. Batch: 'y' (B,) int labels, 'seg' (B, T)
soft targets in [0, 1] (Gaussian bumps at repetition starts), optional 'mask' (B, T).
Loss per example: cls_weight * focal(logits, y) + seg_weight * mean_t BCE(seg_logits, seg).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp


def focal_loss(logits_BC, labels_B, gamma: float, alpha: float):
  """Categorical focal loss -alpha (1 - p_t)^gamma log p_t per example (Lin et al.; Keras'
  CategoricalFocalCrossentropy with a scalar alpha)."""
  log_p_BC = jax.nn.log_softmax(logits_BC, axis=-1)
  log_pt_B = jnp.take_along_axis(log_p_BC, labels_B[:, None].astype(jnp.int32), axis=-1)[:, 0]
  pt_B = jnp.exp(log_pt_B)
  return -alpha * (1.0 - pt_B) ** gamma * log_pt_B


def _frame_mean(values_BT, batch):
  if "mask" in batch:
    valid = batch["mask"].astype(values_BT.dtype)
    return (values_BT * valid).sum(1) / jnp.maximum(valid.sum(1), 1.0)
  return values_BT.mean(1)


@dataclasses.dataclass(frozen=True)
class ClassifyAndSegment:
  """Focal loss for the exercise class plus weighted binary cross-entropy for the frames.

  gamma, alpha: focal-loss focusing and weighting (the seed: 1.0, 0.5).
  cls_weight, seg_weight: loss weights of the two heads (the seed: 1.0, 5.0).
  threshold: probability above which a frame counts as 'repetition start' in metrics;
             targets count as positive at >= 0.5 (within the Gaussian's half width).
  """
  gamma: float = 1.0
  alpha: float = 0.5
  cls_weight: float = 1.0
  seg_weight: float = 5.0
  threshold: float = 0.5

  def _check(self, outputs, batch):
    if not isinstance(outputs, dict) or not {"logits", "seg_logits"} <= set(outputs):
      raise ValueError("classify_and_segment expects model outputs {'logits': (B, C), 'seg_logits': (B, T)}; "
                       f"found {type(outputs).__name__} {list(outputs) if isinstance(outputs, dict) else ''}")
    if "seg" not in batch:
      raise ValueError(f"classify_and_segment needs per-frame targets under batch key 'seg'; found {sorted(batch)}")
    if outputs["seg_logits"].shape != batch["seg"].shape:
      raise ValueError(f"classify_and_segment: seg_logits {outputs['seg_logits'].shape} and targets 'seg' "
                       f"{batch['seg'].shape} differ in shape")

  def _parts(self, outputs, batch):
    import optax  # only where a network trains: a head-only run does not import it (train/specs.py)
    self._check(outputs, batch)
    cls_B = focal_loss(outputs["logits"], batch["y"], self.gamma, self.alpha)
    bce_BT = optax.sigmoid_binary_cross_entropy(outputs["seg_logits"], batch["seg"].astype(jnp.float32))
    return cls_B, _frame_mean(bce_BT, batch)

  def losses(self, outputs, batch):
    cls_B, seg_B = self._parts(outputs, batch)
    return self.cls_weight * cls_B + self.seg_weight * seg_B

  def metrics(self, outputs, batch):
    cls_B, seg_B = self._parts(outputs, batch)
    correct_B = jnp.argmax(outputs["logits"], -1) == batch["y"].astype(jnp.int32)
    predicted_BT = jax.nn.sigmoid(outputs["seg_logits"]) >= self.threshold
    positive_BT = batch["seg"] >= 0.5
    f32 = lambda a: a.astype(jnp.float32)
    return {"accuracy": f32(correct_B), "cls_loss": cls_B, "seg_loss": seg_B,
            "seg_accuracy": _frame_mean(f32(predicted_BT == positive_BT), batch),
            # Per-example counts; their weighted means give precision/recall as ratios.
            "seg_tp": _frame_mean(f32(predicted_BT & positive_BT), batch),
            "seg_fp": _frame_mean(f32(predicted_BT & ~positive_BT), batch),
            "seg_fn": _frame_mean(f32(~predicted_BT & positive_BT), batch)}

  def predict(self, outputs):
    return {"probs": jax.nn.softmax(outputs["logits"], axis=-1),
            "seg_prob": jax.nn.sigmoid(outputs["seg_logits"])}

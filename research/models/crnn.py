"""MaxCRNN: convolution + max-pool front end, bidirectional LSTM, attention pooling.

(B, T, C) windows -> [Conv1D -> BatchNorm -> ReLU -> MaxPool] x N -> Dropout
-> BiLSTM (forward LSTM + LSTM on the time-reversed sequence, concatenated)
-> additive attention pooling over time -> Dropout -> Dense ReLU -> Dropout
-> Dense logits (B, num_classes). The layer sizes are in configs/maxcrnn.py.

Masks: `mask` (B, T) or (B,) marks valid frames / real examples. BatchNorm
statistics use valid entries only; the mask is max-pooled along with the
features (a pooled frame is valid when any of its inputs was); the reverse LSTM
reverses each sequence within its valid prefix; attention ignores invalid frames.

Mixed precision: `dtype="bfloat16"` runs the convolutions (most of the FLOPs)
in bf16 with float32 parameters; BatchNorm statistics, the LSTMs, attention and
logits stay float32.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

from research.models.conv import Conv
from research.models.lstm import LSTM

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def reverse_valid(x_BTF, mask_BT):
  """Reverses each sequence's valid prefix in time; padding stays at the end."""
  steps = x_BTF.shape[1]
  length_B = mask_BT.sum(1)
  t = jnp.arange(steps)[None, :]
  index_BT = jnp.where(t < length_B[:, None], length_B[:, None] - 1 - t, t)
  return jnp.take_along_axis(x_BTF, index_BT[:, :, None], axis=1)


class AdditiveAttentionPool(nn.Module):
  """Bahdanau pooling: score_t = v . tanh(W h_t + b); softmax over valid t; sum alpha_t h_t."""
  features: int

  @nn.compact
  def __call__(self, h_BTH, mask_BT):
    score_BT = nn.Dense(1, use_bias=False, name="score")(
        jnp.tanh(nn.Dense(self.features, name="project")(h_BTH)))[..., 0]
    score_BT = jnp.where(mask_BT, score_BT, -1e9)
    alpha_BT = jax.nn.softmax(score_BT, axis=1) * mask_BT
    alpha_BT = alpha_BT / jnp.maximum(alpha_BT.sum(1, keepdims=True), 1e-9)
    self.sow("intermediates", "attention", alpha_BT)
    return jnp.einsum("bt,bth->bh", alpha_BT, h_BTH)


class MaxCRNN(nn.Module):
  """Conv/BN/ReLU/MaxPool blocks -> BiLSTM -> additive attention -> Dense -> logits."""
  num_classes: int
  conv_features: tuple[int, ...] = (16, 32, 64)
  kernel_sizes: tuple[int, ...] = (7, 5, 5)
  pool_sizes: tuple[int, ...] = (4, 4, 4)
  lstm_features: int = 64
  attention_features: int = 64
  dense_features: int = 64
  conv_dropout: float = 0.3
  dropout: float = 0.5
  bn_momentum: float = 0.99  # Keras' default
  dtype: str = "float32"  # float32 | bfloat16 (convolutions only)
  conv: str = "auto"  # Conv.impl: "matmul" (CPU), "xla" (accelerators) or "auto" (by backend)
  export_conv = "xla"  # the exported graph's form: TFLite's CONV_2D, as cnn.HHTClassifier

  @nn.compact
  def __call__(self, x, *, train: bool, mask=None):
    if x.ndim != 3:
      raise ValueError(f"MaxCRNN expects windows (B, T, C); found shape {x.shape}")
    if not len(self.conv_features) == len(self.kernel_sizes) == len(self.pool_sizes):
      raise ValueError("config.model: conv_features, kernel_sizes and pool_sizes need equal lengths; "
                       f"found {self.conv_features}, {self.kernel_sizes}, {self.pool_sizes}")
    if self.dtype not in DTYPES:
      raise ValueError(f"config.model.dtype must be one of {sorted(DTYPES)}; found {self.dtype!r}")
    compute = DTYPES[self.dtype]
    batch, steps, _ = x.shape
    if mask is None:
      mask_BT = jnp.ones((batch, steps), bool)
    else:
      mask = jnp.asarray(mask, bool)
      mask_BT = jnp.broadcast_to(mask[:, None], (batch, steps)) if mask.ndim == 1 else mask
    h = jnp.where(mask_BT[:, :, None], x, 0.0).astype(compute)
    for i, (features, kernel, pool) in enumerate(
        zip(self.conv_features, self.kernel_sizes, self.pool_sizes)):
      h = Conv(features, (kernel,), padding="SAME", use_bias=False, dtype=compute, impl=self.conv,
               name=f"conv_{i}")(h)
      h = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum, epsilon=1e-3,
                       dtype=compute, name=f"bn_{i}")(
                           h, mask=jnp.broadcast_to(mask_BT[:, :, None], h.shape))
      h = nn.relu(h)
      if pool > 1:
        if h.shape[1] < pool:
          raise ValueError(f"MaxCRNN: block {i} gets {h.shape[1]} frames, fewer than its pool of "
                           f"{pool}; shorten config.model.pool_sizes or use longer windows")
        # Max over non-overlapping windows by reshape: same as max_pool(VALID), and its
        # gradient is a cheap select instead of XLA's slow select-and-scatter on CPU.
        kept = (h.shape[1] // pool) * pool
        h = h[:, :kept].reshape(batch, kept // pool, pool, h.shape[-1]).max(2)
        mask_BT = mask_BT[:, :kept].reshape(batch, -1, pool).any(-1)
      h = jnp.where(mask_BT[:, :, None], h, 0).astype(compute)
    h = nn.Dropout(self.conv_dropout, deterministic=not train)(h).astype(jnp.float32)
    forward, _ = LSTM(self.lstm_features, name="lstm_forward")(h, mask_BT)
    backward, _ = LSTM(self.lstm_features, name="lstm_backward")(reverse_valid(h, mask_BT), mask_BT)
    h_BTH = jnp.concatenate([forward, reverse_valid(backward, mask_BT)], axis=-1)
    pooled = AdditiveAttentionPool(self.attention_features, name="attention")(h_BTH, mask_BT)
    pooled = nn.Dropout(self.dropout, deterministic=not train)(pooled)
    hidden = nn.relu(nn.Dense(self.dense_features, name="dense")(pooled))
    hidden = nn.Dropout(self.dropout, deterministic=not train)(hidden)
    return nn.Dense(self.num_classes, name="logits")(hidden)

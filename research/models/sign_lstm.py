"""The sign-language action classifier: three stacked LSTMs with BatchNorm and Dropout, then Dense.

LSTM(64) -> BN -> Dropout -> LSTM(128) -> BN -> Dropout -> LSTM(64, last state) -> BN ->
Dropout -> Dense(64, relu) -> Dense(32, relu) -> Dense(classes) logits. The LSTMs use
tanh (the seed insists); BatchNorm normalises the feature axis with Keras' defaults
(momentum 0.99, epsilon 1e-3), its statistics taken over valid frames only.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import linen as nn

from research.models.lstm import LSTM


class SignLSTM(nn.Module):
  """(B, T, F) keypoint sequences -> (B, classes) logits.

  The last LSTM returns its state at each sequence's last valid frame, so padding at
  the end of a sequence changes nothing.
  """
  num_classes: int
  lstm_sizes: tuple[int, ...] = (64, 128, 64)
  dense_sizes: tuple[int, ...] = (64, 32)
  dropout: float = 0.2
  batch_norm: bool = True
  bn_momentum: float = 0.99  # Keras' default
  bn_epsilon: float = 1e-3  # Keras' default

  def _norm(self, h, mask, train, name):
    if not self.batch_norm:
      return h
    bn_mask = None if mask is None else jnp.broadcast_to(mask[..., None], h.shape)
    return nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                        epsilon=self.bn_epsilon, name=name)(h, mask=bn_mask)

  @nn.compact
  def __call__(self, x_BTF, *, train: bool, mask=None):
    if x_BTF.ndim != 3:
      raise ValueError(f"SignLSTM expects (batch, frames, features); found shape {x_BTF.shape}")
    mask_BT = None if mask is None else jnp.asarray(mask, bool)
    h_BTH = x_BTF
    h_BH = None
    for index, hidden in enumerate(self.lstm_sizes):
      last = index == len(self.lstm_sizes) - 1
      seq_BTH, state_BH = LSTM(hidden, name=f"lstm_{index}")(h_BTH, mask_BT)
      if last:
        valid_B = None if mask_BT is None else mask_BT.any(-1)
        h_BH = self._norm(state_BH, valid_B, train, f"bn_{index}")
        h_BH = nn.Dropout(self.dropout, deterministic=not train)(h_BH)
      else:
        h_BTH = self._norm(seq_BTH, mask_BT, train, f"bn_{index}")
        h_BTH = nn.Dropout(self.dropout, deterministic=not train)(h_BTH)
    for index, width in enumerate(self.dense_sizes):
      h_BH = nn.relu(nn.Dense(width, name=f"dense_{index}")(h_BH))
    return nn.Dense(self.num_classes, name="logits")(h_BH)

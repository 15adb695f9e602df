"""LSTM layers (one `lax.scan` over time with a hand-written backward: lstm_recurrence) and the regressor.

Gate layout follows Keras and PyTorch: z = x W + h U + b split into (i, f, g, o);
c' = sigmoid(f) c + sigmoid(i) tanh(g); h' = sigmoid(o) tanh(c'). One bias vector
per layer (Keras); PyTorch keeps two, b_ih + b_hh, which sum to this one.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import linen as nn

from research.models.lstm_recurrence import lstm_layer


def _forget_bias_init(key, shape, dtype=jnp.float32):
  """Zeros with the forget-gate quarter set to one (Keras' unit_forget_bias)."""
  del key
  hidden = shape[0] // 4
  return jnp.zeros(shape, dtype).at[hidden:2 * hidden].set(1.0)


class LSTM(nn.Module):
  """One LSTM layer over (B, T, F), or (T, B, F) when `time_major`; padded steps (mask False) keep the state.

  Returns the hidden state at every step, (B, T, H) or (T, B, H) like the input,
  and the final state (B, H), which is the state after each sequence's last valid frame.
  """
  features: int
  time_major: bool = False

  @nn.compact
  def __call__(self, x, mask=None):
    hidden = self.features
    kernel = self.param("kernel", nn.initializers.glorot_uniform(), (x.shape[-1], 4 * hidden))
    recurrent = self.param("recurrent_kernel", nn.initializers.orthogonal(), (hidden, 4 * hidden))
    bias = self.param("bias", _forget_bias_init, (4 * hidden,))
    if mask is not None:
      mask = jnp.asarray(mask, bool)
    if self.time_major:
      return lstm_layer(x, kernel, bias, recurrent, mask)
    mask_TB = None if mask is None else mask.T
    h_TBH, h_last = lstm_layer(jnp.swapaxes(x, 0, 1), kernel, bias, recurrent, mask_TB)
    return jnp.swapaxes(h_TBH, 0, 1), h_last


class LSTMRegressor(nn.Module):
  """Stacked LSTMs with dropout between layers and before a per-step Dense head.

  The frequency filter: (B, T, 5) -> (B, T, 1), as the seed's 2-layer LSTM(128).
  The layers run time-major: one transpose of the input and one of the output instead of
  transposes around every layer, forward and backward.
  """
  hidden_sizes: tuple[int, ...] = (128, 128)
  dropout: float = 0.2
  num_outputs: int = 1

  @nn.compact
  def __call__(self, x_BTF, *, train: bool, mask=None):
    h_TBH = jnp.swapaxes(x_BTF, 0, 1)
    mask_TB = None if mask is None else jnp.swapaxes(mask, 0, 1)
    for index, hidden in enumerate(self.hidden_sizes):
      h_TBH, _ = LSTM(hidden, time_major=True, name=f"lstm_{index}")(h_TBH, mask_TB)
      if train and self.dropout:  # Batch-major input: the mask is drawn as before the layers ran time-major.
        dropout = nn.Dropout(self.dropout, deterministic=False, name=f"Dropout_{index}")
        h_TBH = jnp.swapaxes(dropout(jnp.swapaxes(h_TBH, 0, 1)), 0, 1)
    return jnp.swapaxes(nn.Dense(self.num_outputs, name="head")(h_TBH), 0, 1)


"""LSTM layers written as one `lax.scan` over time, and the sequence regressor.

Gate layout follows Keras and PyTorch: z = x W + h U + b split into (i, f, g, o);
c' = sigmoid(f) c + sigmoid(i) tanh(g); h' = sigmoid(o) tanh(c'). One bias vector
per layer (Keras); PyTorch keeps two, b_ih + b_hh, which sum to this one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn


def _forget_bias_init(key, shape, dtype=jnp.float32):
  """Zeros with the forget-gate quarter set to one (Keras' unit_forget_bias)."""
  del key
  hidden = shape[0] // 4
  return jnp.zeros(shape, dtype).at[hidden:2 * hidden].set(1.0)


class LSTM(nn.Module):
  """One LSTM layer over (B, T, F); padded steps (mask False) keep the state.

  Returns the hidden state at every step (B, T, H) and the final state (B, H),
  which is the state after each sequence's last valid frame.
  """
  features: int

  @nn.compact
  def __call__(self, x_BTF, mask_BT=None):
    batch, steps, _ = x_BTF.shape
    hidden = self.features
    kernel = self.param("kernel", nn.initializers.glorot_uniform(), (x_BTF.shape[-1], 4 * hidden))
    recurrent = self.param("recurrent_kernel", nn.initializers.orthogonal(), (hidden, 4 * hidden))
    bias = self.param("bias", _forget_bias_init, (4 * hidden,))
    # The input projection of every step is one matrix product outside the loop.
    xw_TBG = jnp.einsum("btf,fg->tbg", x_BTF, kernel) + bias
    if mask_BT is None:
      mask_TB = jnp.ones((steps, batch), bool)
    else:
      mask_TB = jnp.asarray(mask_BT, bool).T

    def step(carry, inputs):
      h_BH, c_BH = carry
      xw_BG, valid_B = inputs
      z_BG = xw_BG + h_BH @ recurrent
      i, f, g, o = jnp.split(z_BG, 4, axis=-1)
      c_new = jax.nn.sigmoid(f) * c_BH + jax.nn.sigmoid(i) * jnp.tanh(g)
      h_new = jax.nn.sigmoid(o) * jnp.tanh(c_new)
      valid = valid_B[:, None]
      h_new = jnp.where(valid, h_new, h_BH)
      c_new = jnp.where(valid, c_new, c_BH)
      return (h_new, c_new), h_new

    zeros = jnp.zeros((batch, hidden), x_BTF.dtype)
    (h_last, _), h_TBH = jax.lax.scan(step, (zeros, zeros), (xw_TBG, mask_TB))
    return jnp.swapaxes(h_TBH, 0, 1), h_last


class LSTMRegressor(nn.Module):
  """Stacked LSTMs with dropout between layers and before a per-step Dense head.

  The frequency filter: (B, T, 5) -> (B, T, 1), as the seed's 2-layer LSTM(128).
  """
  hidden_sizes: tuple[int, ...] = (128, 128)
  dropout: float = 0.2
  num_outputs: int = 1

  @nn.compact
  def __call__(self, x_BTF, *, train: bool, mask=None):
    h_BTH = x_BTF
    for index, hidden in enumerate(self.hidden_sizes):
      h_BTH, _ = LSTM(hidden, name=f"lstm_{index}")(h_BTH, mask)
      h_BTH = nn.Dropout(self.dropout, deterministic=not train)(h_BTH)
    return nn.Dense(self.num_outputs, name="head")(h_BTH)

"""The LSTM layers against a NumPy implementation of the LSTM equations."""

import jax
import jax.numpy as jnp
import numpy as np

from research.models import lstm


def sigmoid(z):
  return 1.0 / (1.0 + np.exp(-z))


def numpy_lstm(x_BTF, kernel, recurrent, bias, mask_BT=None):
  batch, steps, _ = x_BTF.shape
  hidden = recurrent.shape[0]
  h, c = np.zeros((batch, hidden)), np.zeros((batch, hidden))
  outputs = []
  for t in range(steps):
    z = x_BTF[:, t] @ kernel + h @ recurrent + bias
    i, f, g, o = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h_new = sigmoid(o) * np.tanh(c_new)
    if mask_BT is not None:
      keep = mask_BT[:, t:t + 1]
      h_new, c_new = np.where(keep, h_new, h), np.where(keep, c_new, c)
    h, c = h_new, c_new
    outputs.append(h)
  return np.stack(outputs, 1), h


def test_regressor_matches_numpy_equations():
  model = lstm.LSTMRegressor(hidden_sizes=(8, 6), dropout=0.2)
  x = np.random.default_rng(0).normal(size=(3, 7, 5)).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(1), x, train=False)
  p = jax.tree_util.tree_map(np.asarray, variables["params"])
  # Non-trivial biases, so a wrong gate order shows.
  p["lstm_0"]["bias"] = np.random.default_rng(2).normal(size=p["lstm_0"]["bias"].shape).astype(np.float32)
  out = np.asarray(model.apply({"params": p}, x, train=False))
  h1, _ = numpy_lstm(x.astype(np.float64), *(p["lstm_0"][k] for k in ("kernel", "recurrent_kernel", "bias")))
  h2, _ = numpy_lstm(h1, *(p["lstm_1"][k] for k in ("kernel", "recurrent_kernel", "bias")))
  expected = h2 @ p["head"]["kernel"] + p["head"]["bias"]
  assert np.abs(out - expected).max() <= 1e-5


def test_masked_steps_keep_state_and_final_state_is_last_valid():
  layer = lstm.LSTM(4)
  x = np.random.default_rng(3).normal(size=(2, 6, 3)).astype(np.float32)
  mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], bool)
  variables = layer.init(jax.random.PRNGKey(0), x, mask)
  (h_seq, h_last) = layer.apply(variables, x, mask)
  p = variables["params"]
  _, expected_last = numpy_lstm(x[1:, :3].astype(np.float64), p["kernel"], p["recurrent_kernel"], p["bias"])
  np.testing.assert_allclose(h_last[1], expected_last[0], atol=1e-5)
  np.testing.assert_allclose(h_seq[1, 5], h_seq[1, 2])
  # Padding after the last valid frame must not change that sequence's final state.
  x_changed = x.copy()
  x_changed[1, 3:] = 100.0
  _, h_last_changed = layer.apply(variables, x_changed, mask)
  np.testing.assert_array_equal(np.asarray(h_last_changed[1]), np.asarray(h_last[1]))


def test_seed_size_parameter_count():
  # Keras-style single bias: 4H(F+H+1) per layer + Dense. PyTorch keeps b_ih and b_hh,
  # adding 4H per layer: 200,321 + 2 * 512 = 201,345, the seed's count.
  model = lstm.LSTMRegressor(hidden_sizes=(128, 128))
  variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 50, 5)), train=False)
  count = sum(a.size for a in jax.tree_util.tree_leaves(variables["params"]))
  assert count == 200_321
  assert count + 2 * 4 * 128 == 201_345

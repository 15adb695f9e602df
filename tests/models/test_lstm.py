"""The LSTM layers against a NumPy implementation of the LSTM equations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from research.models import lstm
from research.models import lstm_recurrence


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


def _autodiff_layer(x_TBF, kernel, bias, recurrent, mask_TB):
  """The same layer as a plain scan, differentiated by JAX (the reference for the hand-written backward)."""
  def step(carry, inputs):
    h, c = carry
    x, valid = inputs
    i, f, g, o = jnp.split(x @ kernel + bias + h @ recurrent, 4, axis=-1)
    c_new = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h_new = jax.nn.sigmoid(o) * jnp.tanh(c_new)
    h_new, c_new = jnp.where(valid[:, None], h_new, h), jnp.where(valid[:, None], c_new, c)
    return (h_new, c_new), h_new
  zeros = jnp.zeros((x_TBF.shape[1], recurrent.shape[0]))
  (h_last, _), h_TBH = jax.lax.scan(step, (zeros, zeros), (x_TBF, mask_TB))
  return h_TBH, h_last


@pytest.mark.parametrize("masked", [False, True])
def test_hand_written_backward_equals_autodiff(masked):
  rng = np.random.default_rng(5)
  steps, batch, features, hidden = 7, 3, 2, 4
  normal = lambda *shape, scale=1.0: jnp.asarray(rng.normal(size=shape) * scale, jnp.float32)
  args = (normal(steps, batch, features), normal(features, 4 * hidden, scale=0.5), normal(4 * hidden, scale=0.5),
          normal(hidden, 4 * hidden, scale=0.5))
  lengths = np.array([7, 4, 1]) if masked else np.full(batch, steps)
  mask = jnp.asarray(np.arange(steps)[:, None] < lengths[None, :])
  weights_seq, weights_last = normal(steps, batch, hidden), normal(batch, hidden)

  def loss(fn, *args):
    h_TBH, h_last = fn(*args, mask if masked else None)
    return jnp.sum(h_TBH * weights_seq) + jnp.sum(jnp.sin(h_last) * weights_last)

  everything = tuple(range(len(args)))
  reference = jax.grad(lambda *a: loss(lambda *b: _autodiff_layer(*b[:-1], mask), *a), argnums=everything)(*args)
  got = jax.grad(lambda *a: loss(lstm_recurrence.lstm_layer, *a), argnums=everything)(*args)
  for g, r in zip(got, reference):
    np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(lstm_recurrence.lstm_layer(*args, mask)[0], _autodiff_layer(*args, mask)[0],
                             rtol=1e-6, atol=1e-6)


def test_time_major_layer_equals_batch_major():
  x = np.random.default_rng(6).normal(size=(3, 5, 2)).astype(np.float32)
  mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], bool)
  variables = lstm.LSTM(4).init(jax.random.PRNGKey(0), x, mask)
  h_BTH, last = lstm.LSTM(4).apply(variables, x, mask)
  h_TBH, last_tm = lstm.LSTM(4, time_major=True).apply(variables, x.swapaxes(0, 1), mask.T)
  np.testing.assert_allclose(np.asarray(h_TBH).swapaxes(0, 1), h_BTH, atol=1e-6)
  np.testing.assert_allclose(last_tm, last, atol=1e-6)


class _BatchMajorRegressor(nn.Module):
  """The regressor as it was written before it ran time-major: batch-major layers, flax Dropout."""

  @nn.compact
  def __call__(self, x_BTF, *, train, mask=None):
    h = x_BTF
    for index in range(2):
      h, _ = lstm.LSTM(6, name=f"lstm_{index}")(h, mask)
      h = nn.Dropout(0.3, deterministic=not train, name=f"Dropout_{index}")(h)
    return nn.Dense(1, name="head")(h)


def test_time_major_regressor_draws_the_same_dropout_and_gradients():
  x = np.random.default_rng(7).normal(size=(4, 9, 5)).astype(np.float32)
  model = lstm.LSTMRegressor(hidden_sizes=(6, 6), dropout=0.3)
  params = model.init(jax.random.PRNGKey(0), x, train=False)["params"]
  rngs = {"dropout": jax.random.PRNGKey(3)}

  def loss(module, p):
    return jnp.sum(module.apply({"params": p}, x, train=True, rngs=rngs) ** 2)

  np.testing.assert_allclose(loss(model, params), loss(_BatchMajorRegressor(), params), rtol=1e-6)
  got, expected = (jax.grad(lambda p, m=m: loss(m, p))(params) for m in (model, _BatchMajorRegressor()))
  for g, e in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)):
    np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)

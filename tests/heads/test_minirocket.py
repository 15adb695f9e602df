"""MiniRocket: features equal aeon's with aeon's fitted parameters; fit, masks and TFLite export."""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest

from research.heads import minirocket


def _aeon_params(fitted, channels):
  """aeon's fitted MiniRocket parameters in our layout (its biases came from its own examples)."""
  counts, indices, dilations, per_dilation, biases = fitted.parameters
  return {"dilations": dilations, "num_features_per_dilation": per_dilation,
          "num_channels_per_combination": counts, "channel_indices": indices, "biases": biases,
          "bias_examples": np.zeros(len(counts), np.int32), "num_channels": np.int32(channels)}


def _numpy_outputs(series_TC, params, dilation_index):
  """Each kernel's output (84, T) at one dilation, summed over its channels, float64:
  out[t] = sum over taps of w[tap] * x[t + (tap - 4) * dilation], zero outside the series."""
  dilation = int(params["dilations"][dilation_index])
  starts = np.concatenate([[0], np.cumsum(params["num_channels_per_combination"])])
  steps = series_TC.shape[0]
  out = np.zeros((84, steps))
  for k, taps in enumerate(minirocket.KERNEL_TAPS):
    combination = dilation_index * 84 + k
    summed = series_TC[:, params["channel_indices"][starts[combination]:starts[combination + 1]]].sum(1)
    for tap in range(9):
      weight = 2.0 if tap in taps else -1.0
      for t in range(steps):
        source = t + (tap - 4) * dilation
        if 0 <= source < steps:
          out[k, t] += weight * summed[source]
  return out


def _check_against_aeon(x_test_NTC, params, want, form):
  """Features equal to float tolerance, except where an output ties a bias to float32 rounding."""
  if form == "transform":
    got = np.asarray(jax.jit(functools.partial(minirocket.transform, params))(x_test_NTC))
  else:  # the compiled-once form, parameters as arrays
    got = minirocket.batched(params, batch_size=4)(x_test_NTC)
  assert got.shape == want.shape
  differ = np.argwhere(np.abs(got - want) > 1e-6)
  assert len(differ) <= 1e-3 * want.size, f"{len(differ)} of {want.size} features differ"
  starts = np.concatenate([[0], np.cumsum(84 * params["num_features_per_dilation"])])
  for example, feature in differ:  # each must be a near tie: one position, within rounding of the bias
    dilation_index = np.searchsorted(starts, feature, side="right") - 1
    kernel = (feature - starts[dilation_index]) // params["num_features_per_dilation"][dilation_index]
    outputs = _numpy_outputs(x_test_NTC[example].astype(np.float64), params, dilation_index)[kernel]
    bias = params["biases"][feature]
    assert np.min(np.abs(outputs - bias)) <= 1e-5 * (1 + abs(bias)), (example, feature)
    assert abs(got[example, feature] - want[example, feature]) * len(outputs) <= 1 + 1e-4


@pytest.mark.parametrize("form", ["transform", "batched"])
@pytest.mark.parametrize("channels,steps", [(1, 60), (3, 50), pytest.param(12, 40, marks=pytest.mark.slow)])
def test_features_equal_aeon_with_aeon_parameters(channels, steps, form):
  convolution = pytest.importorskip("aeon.transformations.collection.convolution_based")
  rng = np.random.default_rng(channels)
  x_train = rng.normal(size=(20, channels, steps)).astype(np.float32)  # aeon: (N, C, T)
  x_test = rng.normal(size=(6, channels, steps)).astype(np.float32)
  fitted = convolution.MiniRocket(random_state=1).fit(x_train)
  params = _aeon_params(fitted, channels)
  _check_against_aeon(x_test.transpose(0, 2, 1), params, fitted.transform(x_test), form)


def test_dilations_and_counts_equal_aeon():
  module = pytest.importorskip("aeon.transformations.collection.convolution_based._minirocket")
  for length, features, most in [(9, 10_000, 32), (60, 10_000, 32), (1000, 10_000, 32), (150, 2_000, 8)]:
    ours = minirocket.fit_dilations(length, features, most)
    theirs = module._fit_dilations(length, features, most)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
  np.testing.assert_array_equal(minirocket.quantiles(500), module._quantiles(500))


def test_kernels_are_all_three_of_nine_choices():
  w = minirocket.kernel_weights()
  assert w.shape == (9, 84) and set(np.unique(w)) == {-1.0, 2.0}
  assert np.all((w == 2).sum(0) == 3) and np.all(w.sum(0) == 0)  # 3 x 2 - 6 x 1
  assert len({tuple(col) for col in w.T}) == 84


def test_fit_is_deterministic_in_the_seed_and_counts_features():
  x = np.random.default_rng(0).normal(size=(10, 50, 3)).astype(np.float32)
  a = minirocket.fit(x, seed=4)
  b = minirocket.fit(x, seed=4)
  c = minirocket.fit(x, seed=5)
  assert set(a) == set(minirocket.PARAM_KEYS)
  for key in a:
    np.testing.assert_array_equal(a[key], b[key])
  assert not np.array_equal(a["biases"], c["biases"])
  assert minirocket.num_output_features(a) == 9_996 == len(a["biases"])
  small = minirocket.fit(x, num_features=1_000, seed=0)
  assert minirocket.transform(small, x).shape == (10, 84 * (1_000 // 84))
  counts = a["num_channels_per_combination"]
  assert counts.min() >= 1 and counts.max() <= 3 and len(counts) == 84 * len(a["dilations"])


def test_biases_are_quantiles_of_the_chosen_training_examples():
  x = np.random.default_rng(1).normal(size=(7, 30, 2)).astype(np.float32)
  params = minirocket.fit(x, num_features=840, seed=2)
  levels = minirocket.quantiles(len(params["biases"]))
  start = 0
  for d_index, count in enumerate(params["num_features_per_dilation"]):
    outputs = {e: _numpy_outputs(x[e].astype(np.float64), params, d_index) for e in range(len(x))}
    for k in range(84):
      example = params["bias_examples"][d_index * 84 + k]
      np.testing.assert_allclose(params["biases"][start:start + count],
                                 np.quantile(outputs[example][k], levels[start:start + count]),
                                 rtol=1e-5, atol=1e-5)
      start += count


def test_a_padded_series_gives_the_features_of_the_series_alone():
  rng = np.random.default_rng(2)
  lengths = np.array([64, 40, 20, 12] * 3)
  mask = np.arange(64)[None, :] < lengths[:, None]
  x_fit = rng.normal(size=(12, 64, 2)).astype(np.float32)
  params = minirocket.fit(x_fit, mask, num_features=840, seed=0)
  assert params["dilations"].max() == 7  # fitted to the longest series: (64 - 1) / 8
  # Fresh series (a training series lies exactly on its own quantiles, where float rounding decides).
  x = rng.normal(size=(4, 64, 2)).astype(np.float32)
  garbage = np.where(mask[:4, :, None], x, 1e3)
  features = minirocket.batched(params, batch_size=3)(garbage, mask[:4])
  for i in range(4):  # 20 and 12 frames are too short for the large dilations' valid positions
    alone = jax.jit(functools.partial(minirocket.transform, params))(x[i:i + 1, :lengths[i]])
    np.testing.assert_allclose(features[i], alone[0], rtol=0, atol=1e-6)
  # The fit ignores what lies under the mask too.
  again = minirocket.fit(np.where(mask[:, :, None], x_fit, -7.0), mask, num_features=840, seed=0)
  np.testing.assert_array_equal(again["biases"], params["biases"])


def test_one_compiled_program_serves_other_lengths_and_parameters():
  rng = np.random.default_rng(5)
  first = None
  for steps, seed in [(50, 0), (52, 1), (49, 2)]:  # one bucket (52 frames), three fits
    assert minirocket.bucket(steps) == 52
    x = rng.normal(size=(5, steps, 2)).astype(np.float32)
    params = minirocket.fit(x, num_features=840, seed=seed)
    lengths = np.array([steps, steps - 3, 30, 12, 9])
    mask = np.arange(steps)[None, :] < lengths[:, None]
    for m in (None, mask):
      want = np.asarray(jax.jit(functools.partial(minirocket.transform, params))(x, m))
      # Equal counts; the division may round once differently (distinct counts differ by >= 1 / T).
      np.testing.assert_allclose(minirocket.batched(params, batch_size=4)(x, m), want, rtol=3e-7, atol=0)
    if first is None:
      first = minirocket._planned_transform._cache_size()
  assert minirocket._planned_transform._cache_size() == first  # no new compilation


def test_bad_input_is_refused_with_a_clear_message():
  x = np.zeros((3, 20, 2), np.float32)
  with pytest.raises(ValueError, match="at least 9"):
    minirocket.fit(x[:, :8])
  with pytest.raises(ValueError, match="prefix"):
    minirocket.fit(x, np.tile(np.arange(20) % 2 == 0, (3, 1)))
  params = minirocket.fit(x + np.arange(20)[None, :, None], num_features=84)
  with pytest.raises(ValueError, match="2 channels"):
    minirocket.transform(params, x[:, :, :1])


@pytest.mark.export
def test_transform_converts_to_tflite_builtins():
  pytest.importorskip("tensorflow")
  from research.export.tflite import converter as tflite, parity
  x = np.random.default_rng(3).normal(size=(6, 40, 2)).astype(np.float32)
  params = minirocket.fit(x, seed=0)
  fn = functools.partial(minirocket.transform, params)
  exported = tflite.convert(lambda v: {"features": fn(v)}, x, dynamic_batch=True, where="MiniRocket")
  assert {"FULLY_CONNECTED", "MINIMUM", "SUM"} <= set(exported.ops)  # convolutions as matrix products
  got = parity.run(exported.model, exported.summary(), x)["features"]
  np.testing.assert_allclose(got, np.asarray(jax.jit(fn)(x)), rtol=0, atol=1e-5)

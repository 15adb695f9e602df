"""MultiRocket-Hydra: Hydra's and MultiRocket's features equal aeon's given aeon's random draws;
the pooling operators by hand; the scaled feature map's storage; a smoke run through launch/train.py."""

from __future__ import annotations

import functools
import json
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

from research import heads as heads_lib
from research.heads import feature_maps_quant_hydra
from research.heads import hydra
from research.heads import minirocket
from research.heads import multirocket
from research.heads import ridge

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _aeon_hydra_params(fitted, channels):
  """aeon's torch draws (kernels (D, 2, K h, 1, 9), channel indices) in our layout."""
  internal = fitted._hydra
  d = internal.num_dilations
  weights = internal.W.numpy().reshape(d, internal.divisor, internal.h, internal.k, 9)
  if channels == 1:  # aeon reads a univariate series as it is: one channel, read once
    indices = np.zeros((d, internal.divisor, internal.h, 1), np.int32)
  else:
    indices = np.stack([i.numpy() for i in internal.idx]).astype(np.int32)
  return {"dilations": internal.dilations.numpy().astype(np.int32), "weights": weights,
          "channel_indices": indices, "num_channels": np.int32(channels)}


@pytest.mark.parametrize("channels,steps", [(1, 60), (3, 50), (6, 100), (1, 9)])
def test_hydra_equals_aeon_with_aeon_kernels(channels, steps):
  convolution = pytest.importorskip("aeon.transformations.collection.convolution_based")
  rng = np.random.default_rng(steps)
  x = rng.normal(size=(5, channels, steps)).astype(np.float32)
  fitted = convolution.HydraTransformer(random_state=1, output_type="numpy").fit(x)
  params = _aeon_hydra_params(fitted, channels)
  assert hydra.num_output_features(params) == fitted.transform(x).shape[1]
  np.testing.assert_allclose(hydra.batched(params, batch_size=3)(x.transpose(0, 2, 1)), fitted.transform(x),
                             rtol=1e-5, atol=1e-5)
  ours = hydra.fit(x.transpose(0, 2, 1), seed=3)  # same shapes from our own draws
  assert {k: np.shape(v) for k, v in ours.items()} == {k: np.shape(v) for k, v in params.items()}
  np.testing.assert_allclose(ours["weights"].sum(-1), 0, atol=1e-6)
  np.testing.assert_allclose(np.abs(ours["weights"]).sum(-1), 1, rtol=1e-6)


def _aeon_multirocket_params(fitted, channels):
  out = {}
  for name, parameter in (("series", fitted.parameter), ("difference", fitted.parameter1)):
    if channels == 1:
      dilations, per_dilation, biases = parameter
      counts = np.ones(84 * len(dilations), np.int32)
      indices = np.zeros(84 * len(dilations), np.int32)
    else:
      counts, indices, dilations, per_dilation, biases = parameter
    out[name] = {"dilations": dilations, "num_features_per_dilation": per_dilation,
                 "num_channels_per_combination": counts, "channel_indices": indices, "biases": biases,
                 "bias_examples": np.zeros(len(counts), np.int32), "num_channels": np.int32(channels)}
  return out


@pytest.mark.parametrize("channels,steps", [(1, 60), (3, 50), (1, 200)])
def test_multirocket_equals_aeon_with_aeon_biases(channels, steps):
  convolution = pytest.importorskip("aeon.transformations.collection.convolution_based")
  rng = np.random.default_rng(channels + steps)
  x_train = rng.normal(size=(15, channels, steps)).astype(np.float32)
  x_test = rng.normal(size=(5, channels, steps)).astype(np.float32)
  fitted = convolution.MultiRocket(n_kernels=1000, random_state=1).fit(x_train)
  params = _aeon_multirocket_params(fitted, channels)
  want = fitted.transform(x_test)
  got = np.asarray(jax.jit(functools.partial(multirocket.transform, params))(x_test.transpose(0, 2, 1)))
  assert got.shape == want.shape == (5, multirocket.num_output_features(params))
  # Counts and indices are exact; means of sums of float32 outputs agree to rounding. A test output
  # that ties a bias to rounding could flip one position; none does on these draws.
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
  batched = multirocket.batched(params, batch_size=2)(x_test.transpose(0, 2, 1))  # biases as arguments
  np.testing.assert_allclose(batched, want, rtol=1e-5, atol=1e-5)


def test_one_compiled_program_serves_every_seed():
  x = np.random.default_rng(7).normal(size=(5, 30, 2)).astype(np.float32)
  sizes = []
  for seed in (0, 1, 2):
    params = {"hydra": hydra.fit(x, groups=8, seed=seed), "multirocket": multirocket.fit(x, num_features=168, seed=seed)}
    # The kernels and biases are arguments of the shared program; the plain transform has them as constants.
    np.testing.assert_allclose(hydra.batched(params["hydra"], batch_size=4)(x),
                               jax.jit(functools.partial(hydra.transform, params["hydra"]))(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(multirocket.batched(params["multirocket"], batch_size=4)(x),
                               jax.jit(functools.partial(multirocket.transform, params["multirocket"]))(x),
                               rtol=1e-6, atol=1e-6)
    sizes.append((hydra._planned_transform._cache_size(), multirocket._planned_transform._cache_size()))
  assert min(sizes[0]) >= 1 and sizes[0] == sizes[1] == sizes[2]  # the later seeds compiled nothing


def test_one_program_each_serves_every_length_in_a_bucket():
  rng = np.random.default_rng(5)
  first = None
  for steps, seed in [(50, 0), (52, 1), (49, 2), (400, 3)]:  # one bucket (52 frames), then a longer one
    x = rng.normal(size=(5, steps, 2)).astype(np.float32)
    params = {"hydra": hydra.fit(x, groups=8, seed=seed),
              "multirocket": multirocket.fit(x, num_features=336, seed=seed)}
    for name, module in (("hydra", hydra), ("multirocket", multirocket)):  # random data: no near-ties
      want = np.asarray(jax.jit(functools.partial(module.transform, params[name]))(x))
      np.testing.assert_allclose(module.batched(params[name], batch_size=4)(x), want, rtol=1e-5, atol=1e-5)
    sizes = (hydra._planned_transform._cache_size(), multirocket._planned_transform._cache_size())
    if first is None:
      assert minirocket.bucket(steps) == 52
      first = sizes
    elif steps < 52:
      assert sizes == first  # the same bucket compiled nothing new
  assert min(np.subtract(sizes, first)) >= 1  # 400 frames: another bucket, compiled once


def test_multirocket_difference_reads_left_taps_one_frame_late():
  """The reference transform's rule, stated on its own: without it the difference's features differ."""
  x = np.random.default_rng(0).normal(size=(3, 40, 1)).astype(np.float32)
  params = multirocket.fit(x, num_features=168)
  z_NCT = np.diff(x, axis=1).transpose(0, 2, 1)
  lagged = np.asarray(minirocket.convolve(params["difference"], 0, z_NCT, left_lag=1))
  plain = np.asarray(minirocket.convolve(params["difference"], 0, z_NCT))
  w = minirocket.kernel_weights()[:, 0]  # kernel 0, dilation 1: taps at t - 4 .. t + 4
  z = np.pad(z_NCT[0, 0].astype(np.float64), 5)
  t = 20 + 5
  np.testing.assert_allclose(plain[0, 0, 20], sum(w[j] * z[t + j - 4] for j in range(9)), rtol=1e-5)
  np.testing.assert_allclose(lagged[0, 0, 20], sum(w[j] * z[t + j - 4 + (j < 4)] for j in range(9)), rtol=1e-5)


def test_pooling_operators_by_hand():
  out = np.array([[[0.5, -1.0, 2.0, 2.0, -3.0, 1.0, 1.0, 1.0, -0.5, 0.0]]], np.float32)  # (1, 1, 10)
  bias = np.array([[0.0, 10.0]], np.float32)
  start, stop = np.array([0]), np.array([10])
  ppv, lspv, mpv, mipv = (np.asarray(f)[0, 0] for f in multirocket._pool(out, bias, start, stop))
  above = [0, 2, 3, 5, 6, 7]  # > 0; below 0 at 1, 4, 8; position 9 ties the bias
  np.testing.assert_allclose(ppv, [0.6, 0.0])
  np.testing.assert_allclose(mpv, [out[0, 0, above].sum() / 6, 0.0])  # C + bias, bias 0
  np.testing.assert_allclose(mipv, [np.mean(above), -1.0])
  # Gaps between 0, the positions below (1, 4, 8) and 9: 1, 3, 4, 1 -> 4; all below 10: gaps of 1.
  np.testing.assert_allclose(lspv, [4.0, 1.0])
  # Reading positions 2..7 only: indices restart at 0 there.
  ppv, lspv, mpv, mipv = (np.asarray(f)[0, 0] for f in multirocket._pool(out, bias, np.array([2]), np.array([8])))
  np.testing.assert_allclose([ppv[0], mipv[0], lspv[0]], [5 / 6, (0 + 1 + 3 + 4 + 5) / 5, 3.0])


def test_feature_map_scales_as_aeon_and_round_trips(tmp_path):
  rng = np.random.default_rng(5)
  x = rng.normal(size=(16, 30, 2)).astype(np.float32)
  y = np.arange(16) % 2
  features = feature_maps_quant_hydra.MultiRocketHydra(multirocket_features=168, hydra_groups=8, seed=1)
  train = features.fit({"x": x}).transform({"x": x})
  counts = hydra.transform(features.params["hydra"], x)
  pooled = multirocket.transform(features.params["multirocket"], x)
  root = np.sqrt(np.clip(np.asarray(counts, np.float64), 0, None))
  sigma = root.std(0, ddof=1) + (root == 0).mean(0) ** 4 + 1e-8
  from sklearn.preprocessing import StandardScaler
  want = np.concatenate([(root - root.mean(0)) * (root != 0) / sigma,
                         StandardScaler().fit_transform(np.asarray(pooled, np.float64))], axis=1)
  np.testing.assert_allclose(train, want, rtol=1e-5, atol=1e-5)
  fresh = feature_maps_quant_hydra.MultiRocketHydra(multirocket_features=168, hydra_groups=8, seed=1)
  fresh.params = features.params  # no cached training features: computed again
  np.testing.assert_allclose(fresh.transform({"x": x}), train, rtol=1e-6, atol=1e-6)
  head = ridge.RidgeHead(num_classes=2, standardize=False).fit(train, y)
  heads_lib.save(tmp_path / "head", head, features)
  loaded, loaded_features, _ = heads_lib.load(tmp_path / "head")
  test = rng.normal(size=(4, 30, 2)).astype(np.float32)
  np.testing.assert_array_equal(loaded_features.transform({"x": test}), features.transform({"x": test}))
  np.testing.assert_array_equal(loaded.predict_proba(loaded_features.transform({"x": test})),
                                head.predict_proba(features.transform({"x": test})))


def test_too_short_series_and_use_mask_are_refused():
  with pytest.raises(ValueError, match="frames >= 10"):
    multirocket.fit(np.zeros((3, 9, 1)))
  from research import config_file
  config = config_file.load(ROOT / "configs" / "multirocket_hydra.py:smoke")
  config.features.use_mask = True
  with pytest.raises(ValueError, match="use_mask=True: MultiRocket-Hydra"):
    heads_lib.build_feature_map(config, {})


@pytest.mark.slow
def test_smoke_config_trains_through_launch(tmp_path):
  result = subprocess.run([sys.executable, "launch/train.py", "--config", "configs/multirocket_hydra.py:smoke",
                           "--workdir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads((tmp_path / "report.json").read_text())
  from research.data import load_dataset
  from research.train import load_run
  run = load_run(tmp_path)
  assert run.feature_map.kind == "multirocket_hydra" and report["head"]["kind"] == "ridge"
  test = load_dataset(run.config).test
  assert report["accuracy"] == pytest.approx(float((run.predict(test)["label"] == test["y"]).mean()))

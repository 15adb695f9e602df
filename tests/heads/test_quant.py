"""QUANT: features equal aeon's QUANTTransformer; hand-computed intervals and quantiles; the
extra-trees head's storage; a smoke run through launch/train.py."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from research import heads as heads_lib
from research.heads import extra_trees
from research.heads import feature_maps_quant_hydra
from research.heads import persist
from research.heads import quant

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("channels,steps", [(1, 60), (1, 150), (3, 37), (2, 9), (1, 3)])
def test_features_equal_aeon(channels, steps):
  interval_based = pytest.importorskip("aeon.transformations.collection.interval_based")
  x = np.random.default_rng(steps).normal(size=(6, channels, steps)).astype(np.float32)  # aeon: (N, C, T)
  want = interval_based.QUANTTransformer().fit(x).transform(x)
  params = quant.fit(x.transpose(0, 2, 1))
  got = quant.batched(params, batch_size=4)(x.transpose(0, 2, 1))
  assert got.shape == want.shape == (6, quant.num_output_features(params))
  # float32 sums and FFTs in another order: differences of a few ulps of the values' scale.
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_other_depth_and_divisor_equal_aeon():
  interval_based = pytest.importorskip("aeon.transformations.collection.interval_based")
  x = np.random.default_rng(0).normal(size=(4, 2, 45)).astype(np.float32)
  want = interval_based.QUANTTransformer(interval_depth=3, quantile_divisor=2).fit(x).transform(x)
  got = quant.transform(quant.fit(x.transpose(0, 2, 1), depth=3, divisor=2), x.transpose(0, 2, 1))
  np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)


def test_jax_form_equals_numpy_form():
  import functools

  import jax
  x = np.random.default_rng(9).normal(size=(5, 33, 2)).astype(np.float32)
  params = quant.fit(x)
  jitted = jax.jit(functools.partial(quant.transform, params, xp=jax.numpy))
  np.testing.assert_allclose(np.asarray(jitted(x)), quant.transform(params, x), rtol=1e-5, atol=1e-5)


def test_intervals_by_hand():
  levels = quant.intervals(16, 6)
  assert [level.tolist() for level in levels[:3]] == [
      [[0, 16]],
      [[0, 8], [8, 16], [4, 12]],  # halves, then shifted by ceil(16 / 2 / 2) = 4, all but the last
      [[0, 4], [4, 8], [8, 12], [12, 16], [2, 6], [6, 10], [10, 14]]]
  assert len(levels) == 5  # log2(16) + 1 levels, below the depth of 6
  assert levels[4].tolist() == [[i, i + 1] for i in range(16)]  # one-frame intervals: no shift
  assert [len(level) for level in quant.intervals(10, 2)] == [1, 3]  # depth caps the levels


def test_one_interval_quantiles_by_hand():
  """The series' whole-length interval and the first of its halves, in NumPy."""
  x = np.random.default_rng(1).normal(size=16).astype(np.float64)
  features = np.asarray(quant.transform(quant.fit(x[None, :, None].astype(np.float32)),
                                        x[None, :, None].astype(np.float32)))[0]
  # 16 frames: 1 + 15 // 4 = 4 quantiles at 0, 1/3, 2/3, 1; levels 1 and 3 relative to the mean.
  whole = np.quantile(x, [0, 1 / 3, 2 / 3, 1])
  np.testing.assert_allclose(features[:4], whole - np.array([0, 1, 0, 1]) * x.mean(), rtol=1e-5, atol=1e-6)
  # [0, 8): 1 + 7 // 4 = 2 quantiles, the minimum and the maximum minus the mean.
  np.testing.assert_allclose(features[4:6], [x[:8].min(), x[:8].max() - x[:8].mean()], rtol=1e-5, atol=1e-6)
  # A 4-frame interval has 1 + 3 // 4 = 1 quantile: the median (no mean taken off).
  x4 = x[:4].astype(np.float32)
  assert float(quant.transform(quant.fit(x4[None, :, None]), x4[None, :, None])[0, 0]) == \
      pytest.approx(np.median(x4), abs=1e-6)


def test_shorter_series_read_zero_padded_and_longer_refused():
  rng = np.random.default_rng(2)
  params = quant.fit(rng.normal(size=(3, 40, 2)).astype(np.float32))
  short = rng.normal(size=(2, 25, 2)).astype(np.float32)
  padded = np.pad(short, ((0, 0), (0, 15), (0, 0)))
  np.testing.assert_array_equal(quant.batched(params)(short), quant.batched(params)(padded))
  with pytest.raises(ValueError, match="at most 40 frames, 2 channels"):
    quant.transform(params, rng.normal(size=(2, 41, 2)))
  with pytest.raises(ValueError, match="at least 3"):
    quant.fit(np.zeros((2, 2, 1)))


def test_use_mask_is_refused_with_the_reason():
  from research import config_file
  config = config_file.load(ROOT / "configs" / "quant.py:smoke")
  config.features.use_mask = True
  with pytest.raises(ValueError, match="use_mask=True: QUANT has no per-series form"):
    heads_lib.build_feature_map(config, {})


def test_head_and_features_round_trip_through_storage(tmp_path):
  rng = np.random.default_rng(3)
  x = rng.normal(size=(30, 24, 2)).astype(np.float32)
  y = np.arange(30) % 3
  x[y == 1] += np.linspace(0, 2, 24)[None, :, None]
  features = feature_maps_quant_hydra.Quant(depth=4).fit({"x": x})
  head = extra_trees.ExtraTreesHead(num_classes=4, n_estimators=15, seed=5).fit(features.transform({"x": x}), y)
  probs = head.predict_proba(features.transform({"x": x}))
  assert probs.shape == (30, 4) and np.all(probs[:, 3] == 0)  # class 3 absent from training
  heads_lib.save(tmp_path / "head", head, features)
  loaded, loaded_features, record = heads_lib.load(tmp_path / "head")
  assert isinstance(loaded.model, extra_trees.ensemble.ExtraTreesClassifier)
  assert record["head"] == head.settings() and loaded_features.settings() == features.settings()
  np.testing.assert_array_equal(loaded.predict_proba(loaded_features.transform({"x": x})), probs)
  assert loaded.model.get_params()["max_features"] == 0.1 and loaded.model.criterion == "entropy"
  (tmp_path / "head" / "head.npz").write_bytes(b"changed")
  with pytest.raises(persist.TamperedFileError):
    heads_lib.load(tmp_path / "head")


def test_extra_trees_head_equals_scikit_learn_with_the_authors_settings():
  from sklearn.ensemble import ExtraTreesClassifier
  rng = np.random.default_rng(4)
  features, labels = rng.normal(size=(40, 30)), np.arange(40) % 2
  features[labels == 1, :5] += 1.0
  reference = ExtraTreesClassifier(n_estimators=200, criterion="entropy", max_features=0.1, random_state=7)
  head = extra_trees.ExtraTreesHead(num_classes=2, seed=7).fit(features, labels)
  test = rng.normal(size=(10, 30))
  np.testing.assert_allclose(head.predict_proba(test),
                             reference.fit(features.astype(np.float32), labels).predict_proba(test.astype(np.float32)))


@pytest.mark.slow
def test_smoke_config_trains_through_launch(tmp_path):
  result = subprocess.run([sys.executable, "launch/train.py", "--config", "configs/quant.py:smoke",
                           "--workdir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads((tmp_path / "report.json").read_text())
  assert report["head"]["kind"] == "extra_trees"
  from research.data import load_dataset
  from research.train import load_run
  run = load_run(tmp_path)
  test = load_dataset(run.config).test
  assert run.feature_map.kind == "quant" and run.head.model.n_estimators == 20
  accuracy = float((run.predict(test)["label"] == test["y"]).mean())
  assert report["accuracy"] == pytest.approx(accuracy)

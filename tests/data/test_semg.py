"""sEMG data, augmentation, features, Random Forest and MaxCRNN: checked against NumPy / scikit-learn."""

from __future__ import annotations

import csv

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from sklearn import ensemble, model_selection

from research.data import defaults as data_defaults
from research.data import loaders
from research.data import sequences as seq_lib
from research.data import transforms
from research.data.formats import semg
from research.data.synthetic import semg as synthetic_semg
from research.heads import features
from research.heads import forest
from research.models import crnn


def _data_config(**overrides):
  cfg = data_defaults.semg_data()
  cfg.window = 128
  cfg.stride = 128
  cfg.synthetic.windows_per_class = 6
  cfg.synthetic.subjects = 2
  cfg.update(overrides)
  return cfg


# --------------------------------------------------------------------------- data


def test_synthesize_shapes_balance_and_determinism():
  a = synthetic_semg.synthesize(num_classes=3, windows_per_class=5, window=200, seed=3)
  b = synthetic_semg.synthesize(num_classes=3, windows_per_class=5, window=200, seed=3)
  assert a["x"].shape == (30, 200, 1) and a["x"].dtype == np.float32
  np.testing.assert_array_equal(np.bincount(a["y"]), [10, 10, 10])
  np.testing.assert_array_equal(np.bincount(a["domain"]), [15, 15])
  np.testing.assert_array_equal(a["x"], b["x"])
  # The carrier is band-limited: almost no power below 15 Hz in the source domain.
  source = a["x"][a["domain"] == 0, :, 0]
  power = np.abs(np.fft.rfft(source - source.mean(1, keepdims=True), axis=1)) ** 2
  freqs = np.fft.rfftfreq(200, 1e-3)
  assert power[:, freqs < 15].sum() < 0.05 * power.sum()


def test_npz_reader_with_domain_tag_and_transfer_split(tmp_path):
  synthetic_semg.generate(str(tmp_path), layout="npz", num_classes=3, windows_per_class=6, window=128, seed=1)
  arrays = semg.read_windows(str(tmp_path / "semg.npz"))
  assert arrays["domain_names"] == ["L3", "L4"]
  assert arrays["class_names"] == ["rest", "grip", "tap"]
  ds = loaders.load_semg(_data_config(path=str(tmp_path / "semg.npz"), normalize="none"), seed=0)
  assert ds.meta["split"] == "transfer"
  assert (ds.train["domain"] == 0).all() and (ds.val["domain"] == 0).all()
  assert (ds.test["domain"] == 1).all() and len(ds.test["y"]) == 18
  assert len(ds.train["y"]) + len(ds.val["y"]) == 18
  assert set(ds.val["y"].tolist()) == {0, 1, 2}  # stratified
  # Without a target domain: one stratified test split of the source domain.
  ds = loaders.load_semg(_data_config(path=str(tmp_path / "semg.npz"), target_domain=""), seed=0)
  assert ds.meta["split"] == "stratified"
  assert sum(ds.sizes().values()) == 18


def test_npz_reader_univariate_2d_and_errors(tmp_path):
  path = tmp_path / "w.npz"
  np.savez(path, x=np.zeros((4, 50), np.float32), y=np.array(["a", "b", "a", "b"]))
  arrays = semg.read_windows(str(path))
  assert arrays["x"].shape == (4, 50, 1) and arrays["class_names"] == ["a", "b"]
  np.savez(path, x=np.zeros((4, 50)), y=np.zeros(3))
  with pytest.raises(ValueError, match=r"4 windows but 'y' has shape \(3,\)"):
    semg.read_windows(str(path))
  ds_path = tmp_path / "d.npz"
  np.savez(ds_path, x=np.zeros((4, 50)), y=np.array([0, 1, 0, 1]), domain=np.array(["A"] * 4))
  with pytest.raises(ValueError, match="domain 'L3' not in"):
    loaders.load_semg(_data_config(path=str(ds_path)), seed=0)


def test_recordings_reader_recovers_windows_and_normalises(tmp_path):
  synthetic_semg.generate(str(tmp_path), layout="recordings", num_classes=2, windows_per_class=4, window=100,
                subjects=2, seed=2)
  truth = synthetic_semg.synthesize(num_classes=2, windows_per_class=4, window=100, subjects=2, seed=2)
  got = semg.read_recordings(str(tmp_path), window=100, stride=100)
  assert got["x"].shape == truth["x"].shape
  # Same multiset of windows (files are read in manifest order): match by sorting on a checksum.
  order = lambda x: np.argsort(x[:, :, 0].sum(1))
  np.testing.assert_allclose(got["x"][order(got["x"])], truth["x"][order(truth["x"])], rtol=1e-5, atol=1e-5)
  assert sorted(got["domain_names"]) == ["L3", "L4"]
  # Per-recording normalisation: each file's samples have mean 0 and std 1.
  norm = semg.read_recordings(str(tmp_path), window=100, stride=100, normalize="recording")
  for r in np.unique(norm["recording"]):
    samples = norm["x"][norm["recording"] == r].reshape(-1)
    assert abs(samples.mean()) < 1e-4 and abs(samples.std() - 1) < 1e-3
  # Overlapping windows: stride 50 gives 2 * (k - 1) + 1 windows from k laid end to end.
  half = semg.read_recordings(str(tmp_path), window=100, stride=50)
  assert len(half["y"]) == sum(2 * (np.sum(got["recording"] == r) - 1) + 1 for r in np.unique(got["recording"]))


def test_recordings_manifest_spans_skips_and_errors(tmp_path):
  np.save(tmp_path / "a.npy", np.arange(300, dtype=np.float32))
  with open(tmp_path / "manifest.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["file", "label", "start", "end"])
    writer.writerow(["a.npy", "fist", 0, 200])
    writer.writerow(["a.npy", "open", 200, 300])
    writer.writerow(["a.npy", "open", 250, 290])  # shorter than a window: skipped
  got = semg.read_recordings(str(tmp_path), window=100, stride=100)
  np.testing.assert_array_equal(got["x"][:, 0, 0], [0, 100, 200])
  assert got["class_names"] == ["fist", "open"] and got["y"].tolist() == [0, 0, 1]
  assert [(s["item"], s["reason"], s["class"]) for s in got["skipped"]] == [
      ("manifest.csv line 4 (a.npy)", "too_short", "open")]
  with pytest.raises(FileNotFoundError, match="no manifest"):
    semg.read_recordings(str(tmp_path), 100, 100, manifest="missing.csv")


def test_normalize_windows_matches_numpy():
  x = np.random.default_rng(0).normal(3, 2, (4, 50, 2)).astype(np.float32)
  out = seq_lib.normalize_windows(x, "window")
  ref = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
  np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
  with pytest.raises(ValueError, match="needs recording ids"):
    seq_lib.normalize_windows(x, "recording")


# --------------------------------------------------------------------------- augmentation


def _augment_config(jitter=False, scale=False, shift=False, mode="online"):
  return ml_collections.ConfigDict({
      "enabled": True, "mode": mode, "factor": 3,
      "jitter": {"enabled": jitter, "std": 0.05},
      "scale": {"enabled": scale, "low": 0.9, "high": 1.1},
      "shift": {"enabled": shift, "max": 100}})


def test_jitter_statistics():
  fn = transforms.build_augment(_augment_config(jitter=True))
  out = np.asarray(fn(jax.random.PRNGKey(0), jnp.zeros((64, 500, 1))))
  assert abs(out.std() - 0.05) < 0.002 and abs(out.mean()) < 0.001
  assert not np.allclose(out[0], out[1])  # each example gets its own noise


def test_scale_range_and_spread():
  fn = transforms.build_augment(_augment_config(scale=True))
  out = np.asarray(fn(jax.random.PRNGKey(1), jnp.ones((2000, 10, 1))))
  factors = out[:, 0, 0]
  np.testing.assert_allclose(out, np.broadcast_to(factors[:, None, None], out.shape), rtol=1e-6)
  assert factors.min() >= 0.9 and factors.max() <= 1.1
  assert abs(factors.mean() - 1.0) < 0.005 and abs(factors.std() - 0.2 / np.sqrt(12)) < 0.005


def test_shift_is_circular_exact_and_within_range():
  fn = transforms.build_augment(_augment_config(shift=True))
  x = np.tile(np.arange(300, dtype=np.float32)[None, :, None], (500, 1, 1))
  out = np.asarray(fn(jax.random.PRNGKey(2), jnp.asarray(x)))
  shifts = []
  for row in out[:, :, 0]:
    s = (-int(row[0])) % 300  # np.roll(x, s)[0] == x[-s]
    s = s - 300 if s > 150 else s
    np.testing.assert_array_equal(row, np.roll(np.arange(300), s))
    shifts.append(s)
  shifts = np.array(shifts)
  assert shifts.min() >= -100 and shifts.max() <= 100
  assert shifts.min() < -80 and shifts.max() > 80  # both directions, near the ends


def test_build_augment_none_when_off_and_static_copies():
  off = _augment_config(jitter=True)
  off.enabled = False
  assert transforms.build_augment(off) is None
  assert transforms.build_augment(_augment_config()) is None  # every transform off
  static = _augment_config(jitter=True, mode="static")
  assert transforms.build_augment(static) is None
  split = {"x": np.zeros((5, 40, 1), np.float32), "y": np.arange(5, dtype=np.int32)}
  out = transforms.augment_static(static, split, seed=0)
  assert out["x"].shape == (15, 40, 1)
  np.testing.assert_array_equal(out["y"], np.tile(np.arange(5), 3))
  np.testing.assert_array_equal(out["x"][:5], 0)  # the originals come first, unchanged
  assert abs(out["x"][5:].std() - 0.05) < 0.01 and not np.allclose(out["x"][5:10], out["x"][10:])
  bad = _augment_config(mode="sometimes")
  with pytest.raises(ValueError, match="augment.mode"):
    transforms.build_augment(bad)


# --------------------------------------------------------------------------- features


def _loop_reference(window, sampling_rate):
  """Straightforward per-sample loops for one channel."""
  n = len(window)
  ref = {"mav": sum(abs(v) for v in window) / n,
         "rms": (sum(v * v for v in window) / n) ** 0.5,
         "wl": sum(abs(window[i + 1] - window[i]) for i in range(n - 1)),
         "zc": sum(1 for i in range(n - 1) if window[i] * window[i + 1] < 0),
         "ssc": sum(1 for i in range(1, n - 1) if (window[i] - window[i - 1]) * (window[i] - window[i + 1]) > 0),
         "var": sum((v - sum(window) / n) ** 2 for v in window) / (n - 1),
         "wamp": sum(1 for i in range(n - 1) if abs(window[i + 1] - window[i]) > 0)}
  return ref


def test_features_match_loop_reference():
  x = np.random.default_rng(0).normal(size=(3, 64, 2)).astype(np.float32)
  names = ("mav", "rms", "wl", "zc", "ssc", "var", "wamp")
  got = features.extract(x, names)
  assert got.shape == (3, len(names) * 2)
  columns = features.feature_names(names, 2)
  for n in range(3):
    for c in range(2):
      ref = _loop_reference(x[n, :, c].astype(np.float64).tolist(), 1000.0)
      for name in names:
        np.testing.assert_allclose(got[n, columns.index(f"{name}_ch{c}")], ref[name], rtol=1e-4,
                                   err_msg=f"{name} channel {c}")


def test_features_hand_computed_and_spectral():
  x = np.array([[1.0, -1.0, 2.0, -2.0, 0.5]], np.float32)
  got = features.extract(x, ("mav", "wl", "zc"))
  np.testing.assert_allclose(got[0], [6.5 / 5, 2 + 3 + 4 + 2.5, 4], rtol=1e-6)
  t = np.arange(1000) / 1000.0
  sine = np.sin(2 * np.pi * 80 * t)[None, :, None]
  np.testing.assert_allclose(features.extract(sine, ("mnf", "mdf")), [[80.0, 80.0]], atol=0.5)
  with pytest.raises(ValueError, match="Unknown features"):
    features.extract(x, ("mav", "entropy"))


# --------------------------------------------------------------------------- forest


def _forest(grid_search=True):
  return forest.ForestHead(
      num_classes=3, n_estimators=10, grid_search=grid_search, grid_folds=3, seed=1738,
      grid={"n_estimators": (5, 10), "max_depth": (0, 2), "min_samples_split": (2, 5)})


def test_forest_grid_search_matches_sklearn():
  rng = np.random.default_rng(0)
  X = rng.normal(size=(60, 4))
  y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(np.int32)
  head = _forest().fit(X, y)
  info = head.fit_info
  reference = model_selection.GridSearchCV(
      ensemble.RandomForestClassifier(random_state=1738),
      {"n_estimators": [5, 10], "max_depth": [None, 2], "min_samples_split": [2, 5]},
      cv=3, scoring="accuracy").fit(X, y)
  assert info["best_params"] == reference.best_params_
  assert info["best_cv_score"] == pytest.approx(reference.best_score_)
  assert len(info["cells"]) == 8
  probs = head.predict_proba(X)
  np.testing.assert_allclose(probs[:, :2], reference.predict_proba(X))
  assert probs.shape == (60, 3) and (probs[:, 2] == 0).all()
  plain = _forest(grid_search=False)._forest()
  assert (plain.max_features, plain.bootstrap, plain.max_depth, plain.random_state) == ("sqrt", True, None, 1738)


# --------------------------------------------------------------------------- MaxCRNN


def _tiny_model(**kwargs):
  return crnn.MaxCRNN(num_classes=3, conv_features=(4, 4), kernel_sizes=(3, 3), pool_sizes=(2, 2),
                      lstm_features=4, attention_features=4, dense_features=4, **kwargs)


def test_reverse_valid_matches_numpy():
  x = np.arange(2 * 5, dtype=np.float32).reshape(2, 5, 1)
  mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
  out = np.asarray(crnn.reverse_valid(jnp.asarray(x), jnp.asarray(mask)))
  np.testing.assert_array_equal(out[0, :, 0], x[0, ::-1, 0])
  np.testing.assert_array_equal(out[1, :, 0], [7, 6, 5, 8, 9])


def test_maxcrnn_padding_examples_do_not_change_batch_statistics():
  model = _tiny_model(conv_dropout=0.0, dropout=0.0)
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(4, 32, 1)), jnp.float32)
  variables = model.init(jax.random.PRNGKey(0), x, train=False)
  out, stats = model.apply(variables, x, train=True, mask=jnp.ones(4, bool), mutable=["batch_stats"])
  padded = jnp.concatenate([x, 100 * jnp.ones((2, 32, 1))])
  out_pad, stats_pad = model.apply(variables, padded, train=True,
                                   mask=jnp.array([1, 1, 1, 1, 0, 0], bool), mutable=["batch_stats"])
  assert out.shape == (4, 3)
  np.testing.assert_allclose(out_pad[:4], out, rtol=1e-4, atol=1e-5)
  jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
                         stats, stats_pad)


def test_maxcrnn_time_padding_and_bfloat16():
  model = _tiny_model()
  x = jnp.asarray(np.random.default_rng(1).normal(size=(2, 32, 2)), jnp.float32)
  variables = model.init(jax.random.PRNGKey(0), x, train=False)
  # A sequence padded in time with junk predicts as the unpadded one in inference.
  mask = jnp.ones((2, 48), bool).at[:, 32:].set(False)
  junk = jnp.concatenate([x, 50 * jnp.ones((2, 16, 2))], axis=1)
  np.testing.assert_allclose(model.apply(variables, junk, train=False, mask=mask),
                             model.apply(variables, x, train=False), rtol=1e-4, atol=1e-5)
  half = _tiny_model(dtype="bfloat16").apply(variables, x, train=False)
  assert half.dtype == jnp.float32
  np.testing.assert_allclose(half, model.apply(variables, x, train=False), atol=0.05)
  with pytest.raises(ValueError, match="fewer than its pool"):
    _tiny_model().init(jax.random.PRNGKey(0), jnp.zeros((1, 3, 1)), train=False)


def _load_config(name):
  import pathlib

  from research import config_file
  return config_file.load(pathlib.Path(__file__).resolve().parents[2] / "configs" / f"{name}.py:smoke")


def test_configs_take_a_multichannel_npz_by_overrides_only(tmp_path):
  from research.data import load_dataset
  from research.models import build_model
  x = np.random.default_rng(0).normal(size=(24, 256, 3)).astype(np.float32)
  np.savez(tmp_path / "mc.npz", x=x, y=np.repeat(np.arange(3), 8))
  for name in ("maxcrnn", "random_forest"):
    config = _load_config(name)
    config.data.path = str(tmp_path / "mc.npz")  # the two overrides a user gives
    config.data.target_domain = ""
    ds = load_dataset(config)
    assert ds.train["x"].shape[1:] == (256, 3) and sum(ds.sizes().values()) == 24
    assert ds.meta["class_names"] == ["0", "1", "2"] and ds.meta["split"] == "stratified"
  assert features.extract(ds.train["x"][:2]).shape == (2, 4 * 3)
  model = build_model(_load_config("maxcrnn").model, ds.meta)
  variables = model.init(jax.random.PRNGKey(0), jnp.asarray(ds.train["x"][:2]), train=False)
  assert model.apply(variables, jnp.asarray(ds.train["x"][:2]), train=False).shape == (2, 3)

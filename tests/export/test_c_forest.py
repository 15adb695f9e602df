"""The Random Forest and the sEMG features in C, compiled with gcc, against scikit-learn and features.py.

Tests that build C are skipped only where no C compiler (gcc) is on the PATH; those that train
a smoke run first are `slow`.
"""

from __future__ import annotations

import pathlib
import shutil

import numpy as np
import pytest
from sklearn import ensemble

from research import config_file
from research.export.c import features as features_c
from research.export.c import forest as forest_c
from research.heads import features as features_lib

CONFIGS = pathlib.Path(__file__).resolve().parents[2] / "configs"
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None,
                               reason="no C compiler: gcc is not on the PATH, so the C harness cannot be built")
ALL = features_lib.BASIC + features_lib.EXTRA
COUNTS = ("zc", "ssc", "wamp")


def _median_margin(x_NTC: np.ndarray, sampling_rate: float) -> np.ndarray:
  """Per window and channel: how far (relative to the total power) the cumulative power at the
  median bin is from half the total, in float64. Near 0 the median bin is a rounding tie."""
  _, power = features_lib._power(x_NTC.astype(np.float64), sampling_rate)
  cumulative = np.cumsum(power, axis=1)
  half = cumulative[:, -1:] / 2
  return (np.abs(cumulative - half) / np.maximum(cumulative[:, -1:], 1e-30)).min(1)


def _assert_features_match(got: np.ndarray, ref: np.ndarray, names, channels: int, skip_mdf=None):
  """Counts exact; MDF exact (bins); the rest within float32 rounding of features.py."""
  for i, name in enumerate(names):
    columns = slice(i * channels, (i + 1) * channels)
    g, r = got[:, columns], ref[:, columns]
    if name in COUNTS:
      np.testing.assert_array_equal(g, r, err_msg=name)
    elif name == "mdf":
      keep = np.ones_like(r, bool) if skip_mdf is None else ~skip_mdf
      np.testing.assert_array_equal(g[keep], r[keep], err_msg=name)
    else:
      # float32 sums (Kahan) vs NumPy's float32 pairwise / float64 sums: measured <= 6e-7 relative.
      np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6, err_msg=name)


@needs_gcc
@pytest.mark.parametrize("length", [256, 300])  # radix-2 FFT and the table DFT
def test_c_features_match_features_py_on_random_windows(length, tmp_path):
  rng = np.random.default_rng(length)
  x = (rng.normal(size=(12, length, 2)) * rng.uniform(0.01, 5.0, size=(12, 1, 2))).astype(np.float32)
  ref = features_lib.extract(x, ALL, threshold=0.05, sampling_rate=1000.0)
  got = features_c.features_c(x, ALL, threshold=0.05, sampling_rate=1000.0, folder=tmp_path)
  ties = _median_margin(x, 1000.0) < 1e-5
  assert ties.sum() <= 1, "random windows should almost never put the median frequency on a tie"
  _assert_features_match(got, ref, ALL, 2, skip_mdf=ties)
  assert got[:, ALL.index("zc") * 2:].sum() > 0  # the counts are not all zero


@needs_gcc
def test_c_counts_are_exact_at_threshold_ties(tmp_path):
  """Steps that equal the threshold exactly: C and NumPy compare the same float32 values."""
  rng = np.random.default_rng(7)
  x = (rng.integers(-4, 5, size=(10, 64, 1)) * 0.25).astype(np.float32)  # steps are multiples of 0.25
  for threshold in (0.25, 0.5, 0.0625):
    ref = features_lib.extract(x, COUNTS, threshold=threshold)
    got = features_c.features_c(x, COUNTS, threshold=threshold, folder=tmp_path / str(threshold))
    np.testing.assert_array_equal(got, ref)
  steps = np.abs(np.diff(x[..., 0], axis=1))
  assert (steps == 0.25).any() and (steps == 0.5).any()  # ties did occur


@needs_gcc
@pytest.mark.parametrize("length", [64, 250])
def test_c_features_on_edge_windows(length, tmp_path):
  """Zeros, constants, one spike, alternating signs: the definitions' corner cases."""
  t = np.arange(length)
  windows = np.stack([np.zeros(length), np.full(length, 0.1), np.full(length, -3.3),
                      np.where(t == length // 3, 2.0, 0.0), np.where(t % 2 == 0, 1.0, -1.0)])
  x = windows[:, :, None].astype(np.float32)
  ref = features_lib.extract(x, ALL, threshold=0.01, sampling_rate=500.0)
  got = features_c.features_c(x, ALL, threshold=0.01, sampling_rate=500.0, folder=tmp_path)
  # A constant window has no spectrum: C gives MNF 0; NumPy leaves ~1e-32 of rounding (atol 1e-6).
  _assert_features_match(got, ref, ALL, 1)
  zc, ssc, mdf = got[:, ALL.index("zc")], got[:, ALL.index("ssc")], got[:, ALL.index("mdf")]
  assert zc[4] == length - 1 and ssc[4] == length - 2 and zc[:3].sum() == 0  # hand-counted
  assert mdf[4] == 250.0  # alternating signs: all power at the Nyquist frequency (fs / 2)


def _smoke_run(names, threshold, workdir):
  """A smoke Random Forest run (the head on hand-made features) trained into `workdir`."""
  from research.data import load_dataset
  from research.train import fit, load_run
  config = config_file.load(CONFIGS / "random_forest.py:smoke")
  config.features.names = tuple(names)
  config.features.threshold = threshold
  dataset = load_dataset(config)
  fit(config, dataset, workdir)
  return dataset, load_run(workdir)


@needs_gcc
@pytest.mark.slow
@pytest.mark.parametrize("names, threshold", [(features_lib.BASIC, 0.0), (ALL, 0.05)])
def test_c_forest_predicts_like_sklearn_on_every_test_window(names, threshold, tmp_path):
  dataset, run = _smoke_run(names, threshold, tmp_path / "run")
  x = np.asarray(dataset.test["x"], np.float32)
  x_NTC = x[:, :, None] if x.ndim == 2 else x
  class_names = list(dataset.meta["class_names"])
  out = tmp_path / "c"
  written = forest_c.write_forest_c(run.head.model, names, threshold, run.feature_map.sampling_rate,
                                    x_NTC.shape[2], x_NTC.shape[1], class_names, out)
  assert sorted(written["files"]) == sorted(["model.h", "model_features.h", "semg_features.h",
                                             "semg_features.c", "main.c"])
  assert all((out / f).exists() for f in written["files"])
  got = forest_c.predict_c(out, x_NTC)  # gcc -Wall -Wextra -pedantic: warnings fail the build
  expected = run.predict(dataset.test)  # scikit-learn's forest on features.extract
  np.testing.assert_array_equal(got["label"], expected["label"])
  np.testing.assert_allclose(got["probs"], expected["probs"], atol=1e-5)
  assert len(x_NTC) >= 16 and len(set(expected["label"])) > 1
  flash = written["flash"]["model"]
  assert flash["flash_bytes"] == flash["text"] + flash["rodata"] > 0
  # The tables alone: 4-byte thresholds and >= 1-byte features and children per decision node.
  assert flash["rodata"] >= written["forest"]["decision_nodes"] * 7


@needs_gcc
def test_c_forest_thresholds_are_exact_between_close_float32_values(tmp_path):
  """A split between two neighbouring float32 values: the midpoint rounds to float32 one way or
  the other, and C must still send every float32 value to scikit-learn's side."""
  one = np.float32(1.0)
  ulp = np.float32(np.spacing(one))
  low, high = one, one + 3 * ulp  # midpoint 1 + 1.5 ulp rounds (to even) up to 1 + 2 ulp
  values = np.array([low, high] * 8, np.float32)
  y = np.array([0, 1] * 8)
  estimator = ensemble.RandomForestClassifier(n_estimators=3, bootstrap=False, random_state=0).fit(values[:, None], y)
  # Constant windows: C's MAV of a constant power-of-two-long window is that constant exactly.
  probes = np.array([low, low + ulp, low + 2 * ulp, high, np.float32(0.5), np.float32(2.0)], np.float32)
  windows = np.repeat(probes[:, None, None], 4, axis=1)
  forest_c.write_forest_c(estimator, ("mav",), 0.0, 1000.0, 1, 4, ["low", "high"], tmp_path)
  got = forest_c.predict_c(tmp_path, windows)
  np.testing.assert_array_equal(features_lib.extract(windows, ("mav",))[:, 0], probes)
  np.testing.assert_array_equal(got["label"], estimator.predict(probes[:, None]))
  np.testing.assert_array_equal(got["label"], [0, 0, 1, 1, 0, 1])


def test_write_forest_c_refuses_a_feature_config_it_was_not_fitted_on(tmp_path):
  estimator = ensemble.RandomForestClassifier(n_estimators=2, random_state=0).fit(np.eye(4), [0, 1, 0, 1])
  with pytest.raises(ValueError, match=r"takes 4 features.*\['mav', 'rms'\] over 1 channels makes 2"):
    forest_c.write_forest_c(estimator, ("mav", "rms"), 0.0, 1000.0, 1, 16, ["a", "b"], tmp_path)
  with pytest.raises(ValueError, match="unknown \\['iemg'\\]"):
    features_c.features_header(("mav", "iemg"), 0.0, 1000.0, 1, 16)
  string_labels = ensemble.RandomForestClassifier(n_estimators=2, random_state=0).fit(np.eye(4), list("abab"))
  with pytest.raises(ValueError, match="class ids"):
    forest_c.flatten_forest(string_labels, 2)


def test_flattened_forest_reproduces_predict_proba():
  """The tables model.h is written from, walked in NumPy, give scikit-learn's probabilities."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(80, 3)).astype(np.float32)
  y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
  estimator = ensemble.RandomForestClassifier(n_estimators=7, max_depth=3, random_state=0).fit(x, y)  # impure leaves
  flat = forest_c.flatten_forest(estimator, 4)
  probs = np.zeros((len(x), 4))
  for i, row in enumerate(x):
    for root in flat["root"]:
      node = root
      while node >= 0:
        node = flat["left"][node] if row[flat["feature"][node]] <= flat["threshold"][node] else flat["right"][node]
      probs[i] += flat["leaves"][-node - 1]
  probs /= len(flat["root"])
  np.testing.assert_allclose(probs[:, :3], estimator.predict_proba(x), atol=1e-6)
  assert np.all(probs[:, 3] == 0)  # a class the forest never saw
  assert len(flat["leaves"]) < sum(e.tree_.n_leaves for e in estimator.estimators_)  # shared rows


@needs_gcc
@pytest.mark.slow
def test_forest_workdir_exports_as_c_through_the_launcher_path(tmp_path):
  import json
  from research.export import pipeline
  dataset, run = _smoke_run(features_lib.BASIC, 0.0, tmp_path)
  outcome = pipeline.export(tmp_path)
  record = outcome.record
  assert outcome.exit_code == 0 and "class agreement 1.000" in outcome.text
  assert record == json.loads((tmp_path / "export.json").read_text())
  assert record["parity"]["class_agreement"] == 1.0 and record["parity"]["examples"] == len(dataset.test["y"])
  assert record["parity"]["max_abs_prob_diff"] <= 1e-5
  assert record["flash"]["model"]["flash_bytes"] > 0 and (tmp_path / "main.c").exists()

"""QUANT and its trees in C, compiled with gcc, against quant.py (NumPy) and scikit-learn.

Tests that build C are skipped only where no C compiler (gcc) is on the PATH; the one that trains
a smoke run first is `slow`.
"""

from __future__ import annotations

import shutil
import types

import numpy as np
import pytest
from sklearn import ensemble

from conftest import export_smoke_run
from research.export.c import build
from research.export.c import quant as quant_c
from research.heads import feature_maps_quant_hydra
from research.heads import quant

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None,
                               reason="no C compiler: gcc is not on the PATH, so the C harness cannot be built")
DFT = 3  # the representation whose features C computes with its own DFT


def _series(seed: int, n: int, length: int, channels: int) -> np.ndarray:
  rng = np.random.default_rng(seed)
  scale = rng.uniform(0.01, 5.0, size=(n, 1, channels))
  return (rng.normal(size=(n, length, channels)).cumsum(1) * scale).astype(np.float32)


def _representation_of_each_feature(params) -> np.ndarray:
  tables = quant_c.feature_tables(params)
  per_channel = np.repeat(tables["representation"], np.diff(tables["first_feature"]))
  return np.tile(per_channel, int(params["num_channels"]))


@needs_gcc
@pytest.mark.parametrize("n, length, channels, given", [
    (6, 37, 1, 37),     # odd length: the DFT has no Nyquist bin
    (5, 64, 3, 64),     # multivariate, shifted intervals on every level from 2 on
    (4, 151, 2, 120),   # odd, multivariate, series shorter than the fitted length (zero-padded)
])
def test_c_features_equal_quant_py(n, length, channels, given, tmp_path):
  x = _series(length, n, length, channels)
  params = quant.fit(x)
  levels = quant.intervals(length, int(params["depth"]))
  assert any(len(level) > 2 ** i for i, level in enumerate(levels))  # shifted intervals are there
  series = x[:, :given]
  ref = quant.batched(params)(series)
  got = quant_c.features_c(params, series, folder=tmp_path)
  assert got.shape == ref.shape == (n, quant.num_output_features(params))
  spectral = _representation_of_each_feature(params) == DFT
  # Series, differences, sorted quantiles and ordered means: the same float32 operations as NumPy.
  np.testing.assert_array_equal(got[:, ~spectral], ref[:, ~spectral])
  # |DFT|: C's float32 sums over a twiddle table vs NumPy's float32 FFT (measured <= 1e-6 of the
  # largest |DFT| value of the channel); checked against 1e-5 of it and 1e-5 relative.
  padded = np.pad(series, ((0, 0), (0, length - given), (0, 0)))
  peak_NC = np.abs(np.fft.rfft(padded.astype(np.float64), axis=1)).max(1)
  per_channel = spectral.size // channels
  atol = np.repeat(peak_NC, per_channel, axis=1)[:, spectral]
  diff = np.abs(got[:, spectral] - ref[:, spectral])
  assert np.all(diff <= 1e-5 * atol + 1e-5 * np.abs(ref[:, spectral])), diff.max()
  assert np.abs(ref[:, spectral]).max() > 0


@needs_gcc
def test_c_trees_give_sklearn_probabilities_on_the_c_features(tmp_path):
  """model.h over the features C computed: scikit-learn's predict_proba on those same features."""
  x = _series(3, 60, 48, 2)
  y = np.arange(60) % 3
  x[y == 1, :, 0] += np.linspace(0, 3, 48, dtype=np.float32)  # learnable, not trivial
  x[y == 2, ::4, 1] *= 3
  params = quant.fit(x)
  estimator = ensemble.ExtraTreesClassifier(n_estimators=25, criterion="entropy", max_features=0.1,
                                            random_state=0).fit(quant.batched(params)(x), y)
  assert estimator.n_features_in_ > 256  # two-byte feature indices in model.h
  written = quant_c.write_quant_c(params, estimator, ["a", "b", "c"], tmp_path)
  assert sorted(written["files"]) == sorted(["model.h", "model_features.h", "quant_features.h",
                                             "quant_features.c", "main.c"])
  test = _series(4, 30, 48, 2)
  test[10:20, :, 0] += np.linspace(0, 3, 48, dtype=np.float32)
  got = quant_c.predict_c(tmp_path, test)  # gcc -Wall -Wextra -pedantic: warnings fail the build
  expected = estimator.predict_proba(got["features"])
  np.testing.assert_allclose(got["probs"], expected, atol=1e-6)
  np.testing.assert_array_equal(got["label"], expected.argmax(1))
  assert len(set(got["label"])) > 1
  sizes = written["flash"]
  assert sizes["model"]["rodata"] >= written["forest"]["decision_nodes"] * 8  # threshold, feature, children
  assert written["ram"]["scratch_bytes"] >= 3 * 48 * 4  # the static scratch: 3 x length floats


def test_write_quant_c_refuses_trees_fitted_on_other_features(tmp_path):
  params = quant.fit(np.zeros((2, 20, 1), np.float32))
  estimator = ensemble.ExtraTreesClassifier(n_estimators=2, random_state=0).fit(np.eye(4), [0, 1, 0, 1])
  with pytest.raises(ValueError, match=r"take 4 features, but QUANT as fitted .* makes \d+"):
    quant_c.write_quant_c(params, estimator, ["a", "b"], tmp_path)


def test_the_record_without_gcc_and_the_report_of_a_disagreement(tmp_path, monkeypatch):
  x = _series(5, 8, 24, 1)
  features = feature_maps_quant_hydra.Quant().fit({"x": x})
  estimator = ensemble.ExtraTreesClassifier(n_estimators=3, random_state=0).fit(
      features.transform({"x": x}), np.arange(8) % 2)
  run = types.SimpleNamespace(model=None, feature_map=features, head=types.SimpleNamespace(model=estimator),
                              meta={"class_names": ["a", "b"]})
  assert quant_c.supports(run)
  monkeypatch.setattr(build, "compiler", lambda: None)
  record = quant_c.export_run(run, {"x": x, "y": np.arange(8) % 2}, tmp_path)
  assert record["parity"] == {"checked": False, "reason": "no C compiler (gcc) on the PATH"}
  assert record["flash_error"] == "no C compiler (gcc) on the PATH" and (tmp_path / "model.h").exists()
  text, errors = quant_c.report(record, tmp_path)
  assert "not checked: no C compiler" in text and errors == []

  record["parity"] = {"checked": True, "split": "test", "examples": 8, "class_agreement": 0.875,
                      "max_abs_prob_diff": 0.1, "max_abs_feature_diff": 1e-6, "max_feature_diff_relative": 1e-7,
                      "features_bit_identical": 0.9}
  record["c_seconds_per_series"] = 1e-4
  text, errors = quant_c.report(record, tmp_path)  # one class off: the export fails (exit code 1)
  assert "class agreement 0.875" in text and errors == [
      "the C program's classes agree with the run's on 0.875 of the series, not all"]

@needs_gcc
@pytest.mark.slow
def test_quant_workdir_exports_as_c_and_agrees_with_the_run(tmp_path):
  record = export_smoke_run("quant", tmp_path)
  parity = record["parity"]
  assert parity["max_abs_prob_diff"] <= 1e-5 and parity["max_feature_diff_relative"] <= 1e-5
  assert all((tmp_path / name).exists() for name in record["files"])
  assert record["flash"]["model"]["flash_bytes"] > 0 and record["ram"]["static_bytes"] > 0
  assert record["c_seconds_per_series"] > 0

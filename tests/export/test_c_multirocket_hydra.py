"""MultiRocket-Hydra + ridge in C, compiled with gcc, against research/heads (hydra.py, multirocket.py,
the feature map's scaling and the ridge's decision).

Tests that build C are skipped only where no C compiler (gcc) is on the PATH; the one that trains
a smoke run first is `slow`.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from research.export.c import multirocket_hydra as mrh_c
from research.heads import feature_maps_quant_hydra
from research.heads import ridge

from conftest import export_smoke_run

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None,
                               reason="no C compiler: gcc is not on the PATH, so the C harness cannot be built")


def _fitted(channels: int, length: int, seed: int):
  """A small MultiRocket-Hydra feature map and ridge fitted on random series of 3 classes, and
  held-out series (random, plus an all-zero one: every kernel output ties at 0)."""
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(24, length, channels)).astype(np.float32)
  y = np.arange(24) % 3
  x += (y[:, None, None] * np.sin(np.arange(length) / 3.0)[None, :, None]).astype(np.float32)
  features = feature_maps_quant_hydra.MultiRocketHydra(multirocket_features=252, hydra_groups=8, hydra_kernels=4,
                                                       seed=seed).fit({"x": x})
  head = ridge.RidgeClassifierCV(num_classes=3, standardize=False).fit(features.transform({"x": x}), y)
  held = np.concatenate([rng.normal(size=(7, length, channels)) * rng.uniform(0.1, 3.0, size=(7, 1, 1)),
                         np.zeros((1, length, channels))]).astype(np.float32)
  return features, head, held


@needs_gcc
@pytest.mark.parametrize("channels, length", [(1, 23), (3, 40)])
def test_c_features_and_decision_equal_python(channels, length, tmp_path):
  features, head, held = _fitted(channels, length, seed=channels)
  written = mrh_c.write_c(features.params, head.arrays(), ["a", "b", "c"], length, tmp_path)
  assert written["features"]["hydra"] + written["features"]["multirocket"] == len(features.transform({"x": held})[0])

  got = mrh_c.features_c(tmp_path, held)
  expected = mrh_c.features_py(features.params, held)
  steps = mrh_c.count_steps(features.params, length)
  counts = steps > 0
  # Counts (Hydra's hard counts, LSPV, PPV x positions read) exactly; the sums within float32 rounding.
  np.testing.assert_array_equal(np.rint(got[:, counts] / steps[counts]), np.rint(expected[:, counts] / steps[counts]))
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
  assert mrh_c.feature_parity(got, expected, steps)["count_values_off_by_a_count"] == 0
  assert (got[:, counts] > 0).mean() > 0.3  # the counts are not all zero

  predicted = mrh_c.predict_c(tmp_path, held)
  decision = head.decision(features.transform({"x": held}))
  np.testing.assert_allclose(predicted["decision"], decision, rtol=1e-4, atol=1e-4)
  np.testing.assert_array_equal(predicted["label"], decision.argmax(1))


def test_count_steps_by_hand():
  """Series of 20 frames, univariate: Hydra dilation 1 and 2 (2**floor(log2(19 / 8))); MiniRocket
  dilations 1 and 2; the valid positions of dilation d are 20 - 8 d (the difference: 19 - 8 d)."""
  x = np.random.default_rng(0).normal(size=(6, 20, 1)).astype(np.float32)
  features = feature_maps_quant_hydra.MultiRocketHydra(multirocket_features=168, hydra_groups=2, hydra_kernels=2)
  features.fit({"x": x})
  steps = mrh_c.count_steps(features.params, 20)
  hydra_count, _ = mrh_c.num_features(features.params)
  assert hydra_count == 2 * 2 * 2 * 1 * 2  # dilations x halves x (soft, hard) x groups per half x kernels
  np.testing.assert_array_equal(steps[:hydra_count], [0, 0, 1, 1] * 4)
  series = features.params["multirocket"]["series"]
  assert series["dilations"].tolist() == [1, 2] and series["num_features_per_dilation"].tolist() == [1, 1]
  ppv = steps[hydra_count:hydra_count + 168]
  # Dilation 0: kernels 1, 3, ... read the valid positions; dilation 1: kernels 0, 2, ...
  np.testing.assert_allclose(ppv[:84], np.where(np.arange(84) % 2 == 1, 1 / 12, 1 / 20))
  np.testing.assert_allclose(ppv[84:], np.where(np.arange(84) % 2 == 0, 1 / 4, 1 / 20))
  np.testing.assert_array_equal(steps[hydra_count + 168:hydra_count + 3 * 168], [1] * 168 + [0] * 168)


def test_writer_refuses_a_head_not_fitted_on_these_features(tmp_path):
  features, head, _ = _fitted(1, 20, seed=0)
  arrays = head.arrays()
  with pytest.raises(ValueError, match="not fitted on these features"):
    mrh_c.write_c(features.params, {**arrays, "coef": arrays["coef"][:-1]}, ["a", "b", "c"], 20, tmp_path)
  with pytest.raises(ValueError, match="for 2 classes"):
    mrh_c.write_c(features.params, arrays, ["a", "b"], 20, tmp_path)


def test_without_gcc_the_sources_are_written_and_flash_is_not_measured(tmp_path, monkeypatch):
  features, head, _ = _fitted(2, 20, seed=1)
  monkeypatch.setattr(mrh_c.build, "compiler", lambda: None)
  written = mrh_c.write_c(features.params, head.arrays(), ["a", "b", "c"], 20, tmp_path)
  assert written["flash_error"] == "no C compiler (gcc) on the PATH" and "flash" not in written
  assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written["files"])
  # The window (20 x 2), the scratch (3 x 20 + 3 x 4 kernels) and 3 scores, float32.
  assert written["ram"] == {"window": 160, "scratch": 288, "decision": 12, "ram_bytes": 460}


def test_report_fails_when_a_class_disagrees():
  record = {"model": "m", "format": "C99", "files": ["model.h"],
            "features": {"hydra": 1, "multirocket": 2, "classes": 2},
            "ram": {"ram_bytes": 3, "window": 1, "scratch": 1, "decision": 1}, "seconds_per_series": 1e-3,
            "parity": {"checked": True, "split": "test", "examples": 10, "class_agreement": 0.9,
                       "max_abs_decision_diff": 0.0,
                       "features": {"count_values_off_by_a_count": 1, "count_values": 20, "max_abs_diff": 0.5}}}
  text, errors = mrh_c.report(record, "w")
  assert "class agreement 0.900" in text and errors == [
      "the C program's classes agree with the run's on 0.900 of the series, not all"]
  record["parity"] = {"checked": False, "reason": "no C compiler (gcc) on the PATH"}
  text, errors = mrh_c.report(record, "w")
  assert "not checked: no C compiler" in text and errors == []


@needs_gcc
@pytest.mark.slow
def test_smoke_run_exports_as_c_with_full_agreement(tmp_path):
  record = export_smoke_run("multirocket_hydra", tmp_path)
  parity = record["parity"]
  assert parity["max_abs_decision_diff"] <= 1e-4
  sizes = record["features"]
  assert record["flash"]["model"]["rodata"] >= 4 * (sizes["hydra"] + sizes["multirocket"]) * sizes["classes"]  # coef
  assert record["ram"]["ram_bytes"] < 4096 and (tmp_path / "model.h").exists() and (tmp_path / "main.c").exists()

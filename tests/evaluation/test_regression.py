"""The regression report against hand-computed errors, baseline and verdicts."""

import numpy as np

from research.evaluation import regression


def test_report_numbers_and_words(tmp_path):
  y = np.array([[[1.0], [-1.0]], [[0.5], [0.5]], [[0.0], [2.0]]], np.float32)  # (N=3, T=2, 1)
  pred = y + np.array([[[0.1], [0.1]], [[0.0], [0.2]], [[-0.3], [0.1]]], np.float32)
  split = {"y": y, "freq_index": np.array([0, 1, 0])}
  meta = {"frequency_names": ["a", "b"]}
  result, markdown = regression.report(
      split=split, predictions={"value": pred}, meta=meta, history=[{}],
      val_metrics={"val_mse": 5.0}, plots_dir=tmp_path, split_name="test")
  per_example = [(0.01 + 0.01) / 2, (0.0 + 0.04) / 2, (0.09 + 0.01) / 2]
  np.testing.assert_allclose(result["overall"]["mse"], np.mean(per_example), rtol=1e-5)
  np.testing.assert_allclose(result["overall"]["zero_prediction_mse"], np.mean([1.0, 0.25, 2.0]), rtol=1e-6)
  np.testing.assert_allclose(result["per_group"]["a"]["mse"], np.mean([per_example[0], per_example[2]]), rtol=1e-5)
  assert "better than the zero prediction" in markdown
  assert "differ by more than the interval" in markdown
  assert result["per_group"]["b"]["mse_ci95"] is None  # One example: no interval, said so.
  assert "| b | 0.0200 | n/a (one example) |" in markdown
  assert (tmp_path / "predictions.png").exists()


def test_zero_model_is_called_no_better(tmp_path):
  y = np.random.default_rng(0).normal(size=(50, 4, 1)).astype(np.float32)
  result, markdown = regression.report(
      split={"y": y}, predictions={"value": np.zeros_like(y)}, meta={}, history=[{}],
      val_metrics={}, plots_dir=tmp_path, split_name="test")
  assert result["overall"]["mse"] == result["overall"]["zero_prediction_mse"]
  assert "NOT better than the zero prediction" in markdown


def test_reference_error_reported_beside_the_model(tmp_path):
  y = np.array([[[1.0]], [[0.0]], [[-1.0]], [[2.0]]], np.float32)
  reference = {"name": "oracle", "value": y + np.array([[[0.5]], [[0.0]], [[0.0]], [[-0.5]]], np.float32)}
  result, markdown = regression.report(
      split={"y": y, "freq_index": np.array([0, 1, 1, 0])}, predictions={"value": np.zeros_like(y)},
      meta={"frequency_names": ["a", "b"]}, history=[{}], val_metrics={}, plots_dir=tmp_path,
      split_name="test", reference=reference)
  np.testing.assert_allclose(result["overall"]["reference_mse"], 0.5 / 4, rtol=1e-6)
  np.testing.assert_allclose(result["per_group"]["a"]["reference_mse"], 0.25, rtol=1e-6)
  np.testing.assert_allclose(result["per_group"]["b"]["reference_mse"], 0.0, atol=1e-12)
  assert "Reference, the oracle: MSE 0.1250 (the model: +1.3750 from it)" in markdown
  assert "| a | 2.5000 |" in markdown and "| 0.2500 |" in markdown
  np.testing.assert_allclose(result["mse_by_step"]["reference"], [0.125])
  np.testing.assert_allclose(result["mse_by_step"]["model"], [1.5])
  assert (tmp_path / "error_by_step.png").exists()

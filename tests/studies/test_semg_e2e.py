"""End to end on smoke configs: CV (network + forest), ablation, transfer, the forest as a run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as scipy_stats

from conftest import load_config
from research.data import load_dataset
from research.studies import ablation
from research.studies import cv
from research.studies import transfer
from research.train import fit, load_run



def _wilson(p, n, confidence=0.95):
  """Wilson score interval of a proportion p over n examples (p need not be k / n for an integer k)."""
  z = scipy_stats.norm.ppf(0.5 + confidence / 2)
  centre = (p + z * z / (2 * n)) / (1 + z * z / n)
  half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
  return centre - half, centre + half


@pytest.mark.slow
def test_studies_write_reports_and_say_chance_in_words(tmp_path):
  config, forest = load_config("maxcrnn", train__epochs=1), load_config("random_forest")
  forest.data = config.data
  dataset = load_dataset(config)

  result = cv.run_cv(config, dataset, tmp_path / "cv", baseline_config=forest, log=None)
  assert set(result["models"]) == {"maxcrnn", "random_forest(handmade)"}
  assert all(len(m["folds"]) == 2 for m in result["models"].values())
  assert (tmp_path / "cv" / "plots" / "cv_scores.png").exists()
  for name, model in result["models"].items():  # the pooled accuracy is the folds' correct share
    correct = sum(round(f["accuracy"] * f["n_test"]) for f in model["folds"])
    assert model["pooled"]["value"] == pytest.approx(correct / result["pool_size"]), name
  text = (tmp_path / "cv" / "cv_report.md").read_text()
  assert "mean +- std" in text

  result = transfer.run_transfer(config, dataset, tmp_path / "tr", baseline_config=forest, log=None)
  history = [json.loads(l) for l in (tmp_path / "tr" / "history.jsonl").read_text().splitlines()]
  assert "target_accuracy" in history[0]  # the transfer callback's column
  gap = result["models"][0]
  assert gap["gap"] == pytest.approx(gap["source_val_accuracy"] - gap["target_test_accuracy"])

  # Labels carry no information: the report must say so.
  noise = load_config("random_forest", data__synthetic__separation=0.0, data__synthetic__windows_per_class=30,
                      head__forest__grid_search=False)
  result = ablation.run_ablation(noise, ["features.names=mav/rms/wl/zc,mav/wl"], tmp_path / "ab", seeds=2,
                                 log=None)
  rows = result["conditions"]
  noise_data = load_dataset(noise)
  n = len(noise_data.split(noise.eval.split)["y"])
  assert result["baseline_score"] == pytest.approx(1 / len(noise_data.meta["class_names"]))  # chance level
  reference = np.mean(rows[0]["per_seed"])
  for row in rows:
    score = row["score"]
    assert row["n_eval"] == n and len(row["per_seed"]) == 2
    assert score["mean"] == pytest.approx(np.mean(row["per_seed"]))
    assert row["change"] == pytest.approx(np.mean(row["per_seed"]) - reference)
    # The bootstrap interval of the seed-mean accuracy, against the Wilson interval of that accuracy over
    # the n examples: seed means spread no more than one seed's 0/1 outcomes, so it is about as wide or
    # narrower, around the same place (a wrong n, resampling or clipping moves it out of these bounds).
    low, high = score["interval_95"]
    wilson_low, wilson_high = _wilson(score["mean"], n)
    assert low < score["mean"] < high, (low, score["mean"], high)
    assert high - low <= (wilson_high - wilson_low) + 0.03, (low, high, wilson_low, wilson_high)
    assert wilson_low - 0.05 <= low and high <= wilson_high + 0.05, (low, high, wilson_low, wilson_high)
    assert not row["better_than_baseline"]
  text = (tmp_path / "ab" / "ablation.md").read_text()
  assert "| condition | test accuracy | 95% interval | change |" in text
  assert text.count("NOT better than the chance") == 2

  report = fit(forest, load_dataset(forest), tmp_path / "rf")
  run = load_run(tmp_path / "rf")
  test = load_dataset(forest).test
  assert report["accuracy"] == float((run.predict(test)["probs"].argmax(1) == test["y"]).mean())
  assert {p.name for p in (tmp_path / "rf" / "head" / "final").iterdir()} == {
      "head.npz", "head.json", "features.npz", "features.json", "manifest.json"}

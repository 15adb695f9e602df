"""End to end on smoke configs: CV (network + forest), ablation, transfer, the forest as a run."""

from __future__ import annotations

import json
import pathlib

import pytest

from research import config_file
from research.data import load_dataset
from research.studies import ablation
from research.studies import cv
from research.studies import transfer
from research.train import fit, load_run

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _config(name):
  return config_file.load(ROOT / "configs" / f"{name}.py:smoke")


@pytest.mark.slow
def test_studies_write_reports_and_say_chance_in_words(tmp_path):
  config, forest = _config("maxcrnn"), _config("random_forest")
  config.train.epochs = 1
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

  noise = _config("random_forest")  # labels carry no information: the report must say so
  noise.data.synthetic.separation = 0.0
  noise.data.synthetic.windows_per_class = 30
  noise.head.forest.grid_search = False
  result = ablation.run_ablation(noise, ["features.names=mav/rms/wl/zc,mav/wl"], tmp_path / "ab", seeds=2,
                                 log=None)
  rows = result["conditions"]
  assert rows[0]["change"] == 0.0
  for row in rows:
    low, high = row["score"]["interval_95"]
    assert 0.0 <= low <= row["score"]["mean"] <= high <= 1.0
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

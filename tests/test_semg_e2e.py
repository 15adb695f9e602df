"""End to end on smoke configs: CV (neural + forest), ablation, transfer, forest run; reports written."""

from __future__ import annotations

import json
import pathlib

import pytest

from research import config_file
from research.data import load_dataset
from research.studies import ablation
from research.studies import cv
from research.studies import forest_run
from research.studies import transfer

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _config(name):
  return config_file.load(ROOT / "configs" / f"{name}.py:smoke")


@pytest.mark.slow
def test_studies_write_reports_and_say_chance_in_words(tmp_path):
  config, forest = _config("maxcrnn"), _config("random_forest")
  config.train.epochs = 1
  forest.data = config.data
  dataset = load_dataset(config)

  result = cv.run_cv(config, dataset, tmp_path / "cv", forest_config=forest, log=None)
  assert set(result["models"]) == {"maxcrnn", "random_forest"}
  assert all(len(m["folds"]) == 2 for m in result["models"].values())
  assert (tmp_path / "cv" / "plots" / "cv_accuracy.png").exists()
  text = (tmp_path / "cv" / "cv_report.md").read_text()
  assert "mean +- std" in text and ("NOT better than chance" in text or "better than chance" in text)

  result = transfer.run_transfer(config, dataset, tmp_path / "tr", forest_config=forest, log=None)
  history = [json.loads(l) for l in (tmp_path / "tr" / "history.jsonl").read_text().splitlines()]
  assert "target_accuracy" in history[0]  # the transfer callback's column
  gap = result["models"][0]
  assert gap["gap"] == pytest.approx(gap["source_val_accuracy"] - gap["target_test_accuracy"])

  noise = _config("random_forest")  # labels carry no information: the report must say so
  noise.data.separation = 0.0
  noise.data.windows_per_class = 30
  noise.forest.grid_search = False
  result = ablation.run_ablation(noise, ["features.names=mav/rms/wl/zc,mav/wl"], tmp_path / "ab", seeds=2,
                                 log=None)
  assert [r["change_pp"] for r in result["conditions"]][0] == 0.0
  text = (tmp_path / "ab" / "ablation.md").read_text()
  assert "| condition | test accuracy | 95% interval | change |" in text
  assert "NOT better than chance" in text or "not help" in text

  report = forest_run.fit_forest_run(forest, load_dataset(forest), tmp_path / "rf")
  assert 0.0 <= report["accuracy"] <= 1.0 and (tmp_path / "rf" / "report.md").exists()

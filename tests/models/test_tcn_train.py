"""End to end: the smoke TCN config trains, reports, and counts repetitions in a recording."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import load_config
from research.data import load_dataset
from research.data.formats import workout
from research.evaluation import count_recording
from research.train import fit, load_run


@pytest.mark.slow
def test_smoke_fit_report_and_count(tmp_path):
  config = load_config("tcn", data__cache_dir=str(tmp_path / "cache"), train__epochs=1)
  dataset = load_dataset(config)
  assert dataset.meta["recordings"]["test"] and "has_start" in dataset.train
  result = fit(config, dataset, tmp_path / "run")
  report = json.loads((tmp_path / "run" / "report.json").read_text())
  run = load_run(tmp_path / "run")
  probs = run.predict(dataset.test)["probs"]
  assert report["split"] == "test"
  assert report["accuracy"] == float((probs.argmax(1) == dataset.test["y"]).mean())
  assert report["segmentation"]["frames"] == dataset.test["seg"].size
  assert report["counting"]["model"]["num_sets"] == sum(
      len(r["sets"]) for r in dataset.meta["recordings"]["test"])
  counted = result["counting"]
  true = np.array([row["true"] for row in counted["sets"]])
  assert counted["baseline"]["mae"] == np.mean(np.abs(counted["baseline_constant_count"] - true))
  assert counted["model"]["mae"] == np.mean(np.abs(np.array([row["predicted"] for row in counted["sets"]]) - true))
  test_name = dataset.meta["recordings"]["test"][0]["name"]
  for plot in ("confusion_matrix.png", "loss.png", f"reps_{test_name}.png"):
    assert (tmp_path / "run" / "plots" / plot).exists(), plot
  assert "Repetition counting" in (tmp_path / "run" / "report.md").read_text()

  path = dataset.meta["recordings"]["test"][0]["path"]
  recording = workout.read_recording(path)
  out, traces = count_recording.count_recording(run.predict, run.meta, recording,
                                                stride=10, counting_config=run.config.eval.counting)
  assert out["counting"] == config.eval.counting.to_dict()
  assert out["num_frames"] == len(recording.angles) and len(traces["seg_prob"]) == len(recording.angles)
  assert np.isfinite(traces["seg_prob"]).all()
  assert out["total_repetitions"] == sum(s["count"] for s in out["segments"])
  assert [t["true_count"] for t in out["truth"]] == [
      s["count"] for s in dataset.meta["recordings"]["test"][0]["sets"]]
  json.dumps(out, default=lambda v: v.tolist())

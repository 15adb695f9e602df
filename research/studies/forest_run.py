"""One Random Forest run in a workdir: fit on train, report on config.eval.split.

The forest counterpart of `research.train.fit`: writes config.json, grid.json
(the grid search's cells), report.json + report.md and plots/ with the same
classification report the neural runs get (validation accuracy = the forest's
accuracy on the val split).
"""

from __future__ import annotations

import json
import pathlib

from research import evaluation
from research.data import dataset as dataset_lib
from research.studies import common
from research.train import records


def fit_forest_run(config, dataset: dataset_lib.Dataset, workdir) -> dict:
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  records.write_json_atomic(workdir / "config.json", json.loads(config.to_json_best_effort()))
  split_name = config.eval.split
  split = dataset.split(split_name)
  probs, info = common.forest_fit_predict(config, dataset.train, {"val": dataset.val, "eval": split},
                                          dataset.meta, int(config.seed))
  records.write_json_atomic(workdir / "grid.json", info)
  val_accuracy = float((probs["val"].argmax(1) == dataset.val["y"]).mean())
  result, markdown = evaluation.REPORTS[config.task.name](
      split=split, predictions={"probs": probs["eval"]}, meta=dataset.meta, history=[],
      val_metrics={"val_accuracy": val_accuracy}, plots_dir=workdir / "plots", split_name=split_name)
  if info.get("grid_search"):
    markdown += (f"\nGrid search ({info['folds']}-fold, {info['scoring']}): best {info['best_params']}, "
                 f"CV score {info['best_cv_score']:.4f}.\n")
  result = {**result, "forest": info.get("best_params", info.get("params")), "workdir": str(workdir)}
  records.write_json_atomic(workdir / "report.json", result)
  records.write_text_atomic(workdir / "report.md", markdown)
  return result

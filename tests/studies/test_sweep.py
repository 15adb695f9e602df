"""launch/sweep.py's study: grouping into programs, per-run learning rates, the table."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from research import config_file
from research.data import load_dataset
from research.studies import common
from research.studies import sweep
from research.train import RunSpec

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _config():
  config = config_file.load(ROOT / "configs" / "lstm_filter.py:smoke")
  config.data.duration = 0.2
  config.model.hidden_sizes = (4, 4)
  config.train.epochs = 3
  return config


def test_points_are_every_combination_and_only_learning_rates_share_a_program():
  """The plan of the end-to-end test below, without training: fast-tier cover of points and groups."""
  config = _config()
  vary = [("optim.lr", [1e-3, 2e-2]), ("model.hidden_sizes", [(4, 4), (6, 6)])]
  planned = sweep.points(config, vary)
  assert [p.label for p in planned] == [f"optim.lr={lr}, model.hidden_sizes={h}" for lr in (0.001, 0.02)
                                        for h in ((4, 4), (6, 6))]
  assert [(p.config.optim.lr, tuple(p.config.model.hidden_sizes)) for p in planned] == [
      (0.001, (4, 4)), (0.001, (6, 6)), (0.02, (4, 4)), (0.02, (6, 6))]
  assert config.optim.lr != 2e-2 and tuple(config.model.hidden_sizes) == (4, 4)  # the base is left as it was
  assert sweep.groups(planned, config) == [[0, 2], [1, 3]]
  assert sweep.groups(sweep.points(config, [("train.epochs", [2, 3])]), config) == [[0], [1]]


@pytest.mark.slow
def test_points_differing_in_learning_rate_share_a_program_and_match_runs_alone(tmp_path):
  config = _config()
  result = sweep.run_sweep(config, ["optim.lr=1e-3,2e-2", "model.hidden_sizes=4/4,6/6"], tmp_path, seeds=2,
                           log=None)
  assert result["groups"] == [[0, 2], [1, 3]]  # the learning rate varies inside a program, sizes do not
  points = {row["point"]: row for row in result["points"]}
  assert sorted(points) == sorted(f"optim.lr={lr}, model.hidden_sizes={h}" for lr in (0.001, 0.02)
                                  for h in ((4, 4), (6, 6)))
  # Reference: the point (lr 2e-2, sizes 4/4) trained alone with that learning rate in its config.
  alone = _config()
  alone.optim.lr = 2e-2
  dataset = load_dataset(alone)
  specs = [RunSpec(seed=s, train=dataset.train, val=dataset.val) for s in (42, 43)]
  split = dataset.split("test")
  _, outputs = common.fit_predict(alone, dataset.meta, specs, [{"eval": split}] * 2, log=None)
  expected = [common.score(split, o["eval"], []).value for o in outputs]
  np.testing.assert_allclose(points["optim.lr=0.02, model.hidden_sizes=(4, 4)"]["per_seed"], expected,
                             rtol=1e-5)
  means = {p: row["score"]["mean"] for p, row in points.items()}
  assert result["best"] == min(means, key=means.get)  # mse: lower is better
  saved = json.loads((tmp_path / "sweep.json").read_text())
  assert saved["best"] == result["best"] and "zero_prediction" in saved["baselines"]
  table = (tmp_path / "sweep.md").read_text()
  assert "**(best)**" in table and "zero prediction" in table and (tmp_path / "plots" / "sweep.png").exists()


def test_bad_vary_is_one_clear_error(tmp_path):
  with pytest.raises(KeyError, match="no field 'optim.lrr'"):
    sweep.run_sweep(_config(), ["optim.lrr=1e-3"], tmp_path, log=None)
  with pytest.raises(ValueError, match="optim.lr is -0.001; it must be > 0"):
    sweep.run_sweep(_config(), ["optim.lr=1e-3,-1e-3"], tmp_path, log=None)

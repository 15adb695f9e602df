"""The automatic choice (research/studies/auto.py): the CV argmax on the training split, blind to the test split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from research.config_check import ConfigError
from research.data import dataset as dataset_lib
from research.data import load_dataset
from research.studies import auto
from research.studies import cv as cv_lib
from research.train import trained as trained_lib

from conftest import load_config, run_script

# MiniRocket listed first and losing on the smoke data (0.917 vs 1.0 CV accuracy): the choice is not the order.
CANDIDATES = "minirocket:smoke,quant:smoke"


def _config(candidates=CANDIDATES):
  config = load_config("auto")
  config.auto.candidates = candidates
  return config


@pytest.fixture(scope="module")
def chosen(tmp_path_factory):
  """(config, data, auto report, workdir) of one smoke run with two candidates."""
  config = _config()
  dataset = load_dataset(config)
  workdir = tmp_path_factory.mktemp("auto")
  return config, dataset, auto.run_auto(config, dataset, workdir, log=None), workdir


def test_choose_takes_the_highest_mean_and_the_first_listed_on_a_tie():
  assert auto.choose({"a": 0.5, "b": 0.9, "c": 0.7}) == "b"
  assert auto.choose({"a": 0.8, "b": 0.9, "c": 0.9}) == "b"
  assert auto.choose({"c": 0.9, "b": 0.9}) == "c"
  folds = [1.0, 0.95, 0.9, 0.85, 0.7]  # the same scores summed in another order: equal to within ulps
  assert auto.choose({"c": float(np.mean(folds)), "b": float(np.mean(folds[::-1])) + 1e-12}) == "c"


def test_candidates_take_the_auto_config_data_seed_and_folds():
  config = _config("minirocket:smoke,quant")
  config.seed, config.cv.folds, config.data.normalize = 3, 4, "zscore"
  found = auto.candidates(config)
  assert list(found) == ["minirocket:smoke", "quant"]
  for candidate in found.values():
    assert candidate.seed == 3 and candidate.cv == config.cv and candidate.data == config.data
  assert found["quant"].head.extra_trees.n_estimators == 200  # the plain variant, not the smoke one
  for bad, message in (("minirocket,nothing", "no config.*valid names: .*quant"), (" , ", "is empty"),
                       ("quant,quant", "more than once"), ("auto", "itself an automatic choice")):
    with pytest.raises(ConfigError, match=message):
      auto.candidates(_config(bad))


def test_the_choice_is_the_argmax_of_each_candidates_own_cross_validation(chosen, tmp_path):
  config, dataset, report, workdir = chosen
  training = dataset_lib.Dataset(train=dataset.train, val=dataset.val,
                                 test={k: v[:0] for k, v in dataset.test.items()}, meta=dataset.meta)
  means = {}
  for name in CANDIDATES.split(","):
    own = load_config(*name.split(":"))  # the candidate's smoke config: the same data and folds as auto's smoke
    result = cv_lib.run_cv(own, training, tmp_path / name, log=None)
    (scores,) = result["models"].values()
    means[name] = scores["accuracy"]["mean"]
    row = next(r for r in report["candidates"] if r["name"] == name)
    assert row["per_fold"] == [f["accuracy"] for f in scores["folds"]]
    assert result["pool_size"] == len(dataset.train["y"]) + len(dataset.val["y"])
  assert means["minirocket:smoke"] < means["quant:smoke"]  # else this test cannot tell the rule from the order
  assert report["chosen"] == max(means, key=means.get)
  saved = json.loads((workdir / "config.json").read_text())
  assert saved["head"]["features"] == "quant" and saved["data"] == config.data.to_dict()
  assert report["test"]["accuracy"] == json.loads((workdir / "report.json").read_text())["accuracy"]
  text = (workdir / "auto_report.md").read_text()
  for name in ("minirocket:smoke", "quant:smoke"):
    assert f"auto/{name.replace(':', '_')}/cv_report.md" in text
  assert "**quant:smoke** (chosen)" in text and "trivial baseline chance 0.333" in text


@pytest.mark.slow
def test_the_test_split_changes_neither_the_choice_nor_the_cv_scores(chosen, tmp_path):
  config, dataset, report, _ = chosen
  rng = np.random.default_rng(0)
  test = dict(dataset.test, x=rng.normal(size=dataset.test["x"].shape).astype(np.float32),
              y=rng.permutation(np.roll(dataset.test["y"], 1)))
  other = dataset_lib.Dataset(train=dataset.train, val=dataset.val, test=test, meta=dataset.meta)
  again = auto.run_auto(config, other, tmp_path, log=None)
  assert again["test"]["accuracy"] != report["test"]["accuracy"]  # the test split did change
  assert again["chosen"] == report["chosen"]
  assert again["candidates"] == report["candidates"]


@pytest.mark.slow
def test_launch_train_chooses_resumes_and_refuses_another_candidate_list(tmp_path):
  workdir = tmp_path / "run"
  first = run_script("launch/train.py", "--config", "configs/auto.py:smoke", "--workdir", workdir, check=True)
  assert "# Automatic choice: " in first.stdout
  for name in ("minirocket_smoke", "quant_smoke", "multirocket_hydra_smoke"):
    assert (workdir / "auto" / name / "cv_report.json").is_file()
  assert trained_lib.load_run(workdir).head is not None  # an ordinary run: evaluate, predict, export read it
  run_script("launch/evaluate.py", "--workdir", workdir, check=True)
  again = run_script("launch/train.py", "--config", "configs/auto.py:smoke", "--workdir", workdir, check=True)
  assert again.stdout.count("cross-validation read back") == 3
  refused = run_script("launch/train.py", "--config", "configs/auto.py:smoke", "--workdir", workdir,
                       "--config.auto.candidates=quant:smoke")
  assert refused.returncode == 1 and "auto.candidates" in refused.stderr

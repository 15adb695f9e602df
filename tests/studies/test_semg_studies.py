"""CV folds, the vmapped multi-run driver against `fit`, and the ablation/transfer/forest studies."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from research import config_file
from research.data import dataset as dataset_lib
from research.data import load_dataset
from research.data import splits
from research.studies import ablation
from research.studies import common
from research.train import fit
from research.train import engine, loop

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _config(name, variant="smoke"):
  return config_file.load(ROOT / "configs" / f"{name}.py:{variant}")


def test_folds_are_stratified_disjoint_and_equal_sized():
  y = np.repeat(np.arange(3), [10, 13, 8]).astype(np.int32)
  pool = {"x": np.zeros((len(y), 4, 1), np.float32), "y": y}
  folds = splits.make_folds(pool, folds=4, seed=1738, val_fraction=0.2)
  tests = np.concatenate([f["test"] for f in folds])
  np.testing.assert_array_equal(np.sort(tests), np.arange(len(y)))  # disjoint, covering
  for f in folds:
    parts = [set(f[k].tolist()) for k in ("train", "val", "test")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    counts = np.bincount(y[f["test"]], minlength=3)
    np.testing.assert_allclose(counts, np.bincount(y) / 4, atol=1)  # stratified
    assert set(y[f["val"]].tolist()) == {0, 1, 2}
  assert len({len(f["train"]) for f in folds}) == 1 and len({len(f["val"]) for f in folds}) == 1
  # Test parts match scikit-learn's StratifiedKFold(shuffle=True, random_state=1738).
  from sklearn.model_selection import StratifiedKFold
  ref = [t for _, t in StratifiedKFold(4, shuffle=True, random_state=1738).split(y, y)]
  for f, t in zip(folds, ref):
    np.testing.assert_array_equal(f["test"], np.sort(t))
  with pytest.raises(ValueError, match="fewer than --folds"):
    splits.make_folds(pool, folds=9, seed=0, val_fraction=0.2)


@pytest.mark.slow
def test_vmapped_folds_equal_each_fold_trained_alone_with_fit(tmp_path):
  config = _config("maxcrnn")
  config.train.epochs = 3
  config.train.early_stopping.patience = 1
  dataset = load_dataset(config)
  pool = splits.cv_pool(dataset)
  folds = splits.make_folds(pool, 2, 1738, 0.25)
  parts = [{k: dataset_lib.take(pool, f[k]) for k in ("train", "val", "test")} for f in folds]
  runs = [loop.RunSpec(seed=config.seed, train=s["train"], val=s["val"]) for s in parts]
  results = loop.train_many(config, dataset.meta, runs, log=None)
  for fold in (1,):  # one fit keeps the test fast; fold 1 is the second member of the vmapped batch
    alone = dataset_lib.Dataset(meta=dataset.meta, **parts[fold])
    fit(config, alone, tmp_path / f"fold{fold}")
    history = [json.loads(line) for line in (tmp_path / f"fold{fold}" / "history.jsonl").read_text().splitlines()]
    ours = results[fold].history
    assert [h["epoch"] for h in ours] == [h["epoch"] for h in history], "each fold stops on its own"
    for key in ("loss", "val_loss", "val_accuracy", "lr"):
      np.testing.assert_allclose([h[key] for h in ours], [h[key] for h in history], rtol=2e-4, atol=1e-5,
                                 err_msg=f"fold {fold} {key}")
    report = json.loads((tmp_path / f"fold{fold}" / "report.json").read_text())
    built = loop.components(config, dataset.meta)
    probs = engine.predict_split(built.model, built.task, results[fold].variables, parts[fold]["test"],
                                 config.train.eval_batch_size)["probs"]
    assert float((probs.argmax(1) == parts[fold]["test"]["y"]).mean()) == pytest.approx(report["accuracy"])


def test_multirun_refuses_unequal_fold_sizes():
  config = _config("maxcrnn")
  a = {"x": np.zeros((4, 256, 1), np.float32), "y": np.zeros(4, np.int32)}
  b = {"x": np.zeros((5, 256, 1), np.float32), "y": np.zeros(5, np.int32)}
  with pytest.raises(loop.TrainingError, match="different sizes"):
    loop.train_many(config, {"class_names": ["a", "b"]},
                    [loop.RunSpec(0, a, a), loop.RunSpec(0, b, a)], log=None)


def test_ablation_vary_parsing_and_conditions():
  config = _config("maxcrnn")
  vary = ablation.parse_vary(["augment.enabled=true,false", "model.conv_features=2/4,8/8"], config)
  assert vary == [("augment.enabled", [True, False]), ("model.conv_features", [(2, 4), (8, 8)])]
  conds = ablation.conditions(config, vary)
  assert [c.augment.enabled for _, c in conds] == [True, True, False, False]
  assert conds[3][0] == "augment.enabled=False, model.conv_features=(8, 8)"
  assert config.augment.enabled is True  # the original is untouched
  with pytest.raises(KeyError, match="no field 'augment.enable'"):
    ablation.parse_vary(["augment.enable=true"], config)


def test_mcnemar_and_mean_std_against_hand_values():
  a = np.array([1, 1, 1, 1, 0, 0], bool)
  b = np.array([0, 0, 0, 1, 0, 0], bool)
  assert common.mcnemar_p(a, b) == pytest.approx(0.25)  # 3 vs 0 discordant: 2 * 0.5**3
  s = common.mean_std([0.5, 0.7])
  assert s["mean"] == pytest.approx(0.6) and s["std"] == pytest.approx(np.sqrt(0.02))
  assert s["interval_95"][1] - 0.6 == pytest.approx(12.706 * np.sqrt(0.02) / np.sqrt(2), rel=1e-3)
  bounded = common.mean_std([0.5, 0.7], bounds=(0.0, 1.0))  # 0.6 -+ 1.27 cut to an accuracy's range
  assert bounded["interval_95"] == [0.0, 1.0]
  assert common.mean_std([0.9, 0.95], bounds=(0.0, 1.0))["interval_95"] == pytest.approx(
      [0.925 - 12.706 * np.sqrt(0.00125) / np.sqrt(2), 1.0], rel=1e-3)

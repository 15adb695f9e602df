"""Small data: the validation policy, the MiniRocket and InceptionTime runs, the public benchmark."""

from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

from research import config_file
from research.data import defaults as data_defaults
from research.data import load_dataset
from research.data.synthetic import ts as synthetic_ts
from research.train import fit
from research.train import trained as run_lib
from research.train import validation

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"


def _split(n, classes=2):
  return {"x": np.arange(n, dtype=np.float32)[:, None, None], "y": np.arange(n) % classes,
          "mask": np.ones((n, 1), bool)}


def _config(policy, threshold=100):
  config = config_file.load(CONFIGS / "inception_time.py:smoke")
  config.train.validation = policy
  config.train.small_data_threshold = threshold
  return config


def test_small_policy_below_threshold_merges_validation_and_follows_training_loss():
  plan = validation.plan(_config("small"), _split(40), _split(6))
  assert len(plan.train["y"]) == 46 and len(plan.val["y"]) == 0
  assert np.array_equal(plan.train["x"][:, 0, 0], np.r_[np.arange(40), np.arange(6)])
  train = plan.config.train
  assert (train.monitor, train.mode, train.early_stopping.enabled, train.early_stopping.restore_best) == \
      ("loss", "min", False, True)
  assert "40 training examples < config.train.small_data_threshold 100" in plan.statement


def test_small_policy_at_threshold_and_split_policy_keep_the_split():
  for policy, threshold in (("small", 40), ("split", 100)):
    config = _config(policy, threshold)
    plan = validation.plan(config, _split(40), _split(6))
    assert plan.config is config and len(plan.val["y"]) == 6
    assert plan.statement.startswith("Validation: the 6-example validation split")


def test_split_policy_without_validation_examples_is_refused():
  with pytest.raises(ValueError, match="validation split is empty"):
    validation.plan(_config("split"), _split(40), _split(0))
  with pytest.raises(ValueError, match="unknown|valid"):
    validation.plan(_config("sometimes"), _split(40), _split(6))


def test_inception_ensemble_predicts_the_mean_of_its_members_and_keeps_lowest_training_loss(tmp_path):
  config = config_file.load(CONFIGS / "inception_time.py:smoke")
  config.train.epochs = 4
  dataset = load_dataset(config)
  report = fit(config, dataset, tmp_path)
  run = run_lib.load_run(tmp_path)
  assert run.num_members == 2 and report["ensemble"]["members"] == 2
  assert "Validation: none" in report["validation"]
  # Each member's kept epoch is the one with its lowest training loss (no early stopping: all epochs ran).
  for rows in run.histories:
    assert len(rows) == 4
    kept = [r for r in rows if r["is_best"]][-1]
    assert kept["loss"] == min(r["loss"] for r in rows)
  # The ensemble's probabilities: the NumPy mean of each member's softmax, applied member by member.
  test = dataset.test
  members = []
  for m in range(2):
    variables = jax.tree_util.tree_map(lambda a, m=m: a[m], run.variables)
    logits = run.model.apply(variables, test["x"], train=False, mask=test["mask"])
    members.append(np.asarray(jax.nn.softmax(logits)))
  np.testing.assert_allclose(run.predict(test)["probs"], np.mean(members, 0), rtol=1e-5, atol=1e-6)
  accuracy = float((np.mean(members, 0).argmax(1) == test["y"]).mean())
  assert report["accuracy"] == pytest.approx(accuracy)


def test_minirocket_run_equals_sklearn_ridge_on_its_features(tmp_path):
  from sklearn.linear_model import RidgeClassifierCV
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler
  config = config_file.load(CONFIGS / "minirocket.py:smoke")
  dataset = load_dataset(config)
  report = fit(config, dataset, tmp_path)
  run = run_lib.load_run(tmp_path)
  train_features = run.feature_map.transform(dataset.train)
  test_features = run.feature_map.transform(dataset.test)
  assert train_features.shape == (len(dataset.train["y"]), 840)
  reference = make_pipeline(StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
  reference.fit(train_features, dataset.train["y"])
  assert run.head.alpha == pytest.approx(reference[-1].alpha_)
  np.testing.assert_array_equal(run.predict(dataset.test)["label"], reference.predict(test_features))
  assert report["accuracy"] == pytest.approx(float((reference.predict(test_features) == dataset.test["y"]).mean()))
  assert report["head"]["kind"] == "ridge" and "Validation: none" in report["validation"]


def _wilson(k, n, z=1.959963984540054):
  p = k / n
  centre = (p + z * z / (2 * n)) / (1 + z * z / n)
  half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
  return centre - half, centre + half


def test_benchmark_on_a_bundled_problem_matches_its_runs_and_resumes(tmp_path):
  aeon_datasets = pytest.importorskip("aeon.datasets")
  from research.studies import benchmark
  cells = benchmark.run([str(CONFIGS / "minirocket.py:smoke")], ["UnitTest"], tmp_path, log=lambda _: None)
  (cell,) = cells
  assert cell.error is None and cell.config == "minirocket:smoke" and cell.dataset == "UnitTest"
  # Labels read by aeon's own loader (an independent reader) against the run's predictions.
  _, y_test = aeon_datasets.load_unit_test(split="test")
  run = run_lib.load_run(tmp_path / "minirocket:smoke" / "UnitTest")
  test = load_dataset(run.config).test
  names = np.asarray(run.meta["class_names"])
  correct = int((names[run.predict(test)["label"]] == np.asarray(y_test)).sum())
  assert cell.num_test == len(y_test) == 22
  assert cell.accuracy == pytest.approx(correct / 22)
  assert cell.interval == pytest.approx(_wilson(correct, 22))
  assert cell.majority_rate == pytest.approx(max(np.unique(y_test, return_counts=True)[1]) / 22)
  table = (tmp_path / "benchmark.md").read_text()
  assert f"| UnitTest | minirocket:smoke | 20 / 22 | {correct / 22:.4f} |" in table
  assert json.loads((tmp_path / "benchmark.json").read_text())["cells"][0]["accuracy"] == cell.accuracy
  assert (tmp_path / "plots" / "benchmark.png").stat().st_size > 0
  report = tmp_path / "minirocket:smoke" / "UnitTest" / "report.json"
  before = report.stat().st_mtime_ns
  again = benchmark.run([str(CONFIGS / "minirocket.py:smoke")], ["UnitTest"], tmp_path, log=lambda _: None)
  assert again == cells and report.stat().st_mtime_ns == before  # Finished cells are read back.


def test_benchmark_resolves_a_folder_and_refuses_an_unknown_name(tmp_path):
  from research.studies import benchmark
  synthetic_ts.generate(tmp_path / "set", classes=2, train=4, test=2, dims=1, problem="Tiny")
  assert benchmark.resolve_dataset(str(tmp_path / "set")) == ("Tiny", tmp_path / "set" / "Tiny_TRAIN.ts")
  with pytest.raises(FileNotFoundError, match="NoSuchProblem.*neither a .ts file or folder"):
    benchmark.resolve_dataset("NoSuchProblem")


@pytest.mark.slow
def test_benchmark_cli_reports_a_failed_cell_and_exits_non_zero(tmp_path):
  """A cell that cannot train is a row saying why; the command exits 1 and leaves no cell.json."""
  synthetic_ts.generate(tmp_path / "set", classes=2, train=10, test=4, dims=1, min_length=12,
                        max_length=12, problem="Tiny")
  result = subprocess.run(
      [sys.executable, "launch/benchmark.py", "--configs", "inception_time:smoke",
       "--datasets", str(tmp_path / "set"), "--workdir", str(tmp_path / "out"),
       "--set", "data.val_fraction=0", "--set", "train.validation=split"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1, result.stderr
  assert "failed: config.train.validation='split' but the validation split is empty" in result.stdout
  assert not (tmp_path / "out" / "inception_time:smoke" / "Tiny" / "cell.json").exists()
  bad = subprocess.run([sys.executable, "launch/benchmark.py", "--configs", "minirocket", "--datasets", "x",
                        "--set", "train.epochs"], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert bad.returncode == 2 and "expected key=value" in bad.stderr
  misspelt = subprocess.run([sys.executable, "launch/benchmark.py", "--configs", "minirocket", "--datasets",
                             str(tmp_path / "set"), "--workdir", str(tmp_path / "none"), "--set", "train.epochz=3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert misspelt.returncode == 1 and "train.epochz" in misspelt.stderr
  assert not (tmp_path / "none").exists()  # refused before any training
  empty = subprocess.run([sys.executable, "launch/benchmark.py", "--configs", "minirocket", "--datasets", "",
                          "--workdir", str(tmp_path / "empty")], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert empty.returncode == 1 and "at least one config and one dataset" in empty.stderr
  assert not (tmp_path / "empty").exists()


def test_ts_data_config_reads_what_the_generator_wrote(tmp_path):
  """The shared `.ts` data group: the synthetic set's sizes, channels and lengths as asked."""
  config = config_file.load(CONFIGS / "minirocket.py")
  assert config.data.to_dict() == {**data_defaults.ts_data().to_dict(), "val_fraction": 0.0}
  config.data.cache_dir = str(tmp_path)
  dataset = load_dataset(config)
  assert (len(dataset.train["y"]), len(dataset.val["y"]), len(dataset.test["y"])) == (40, 0, 40)
  assert dataset.train["x"].shape[1:] == (100, 6)

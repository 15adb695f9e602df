"""Classification task, statistics and report: checked against scikit-learn, SciPy and hand values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn import metrics as sk_metrics

from conftest import load_config
from research.data import loaders
from research.data import skipped as skipped_lib
from research.evaluation import REPORTS
from research.evaluation import classification as report_lib
from research.evaluation import stats
from research.tasks import TASKS
from research.tasks import classification


def _np_log_softmax(logits):
  shifted = logits - logits.max(-1, keepdims=True)
  return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


# ---- task ----------------------------------------------------------------------------------------

def test_registered():
  assert TASKS["classification"] is classification.Classification
  assert REPORTS["classification"] is report_lib.report


def test_loss_matches_numpy_cross_entropy():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(6, 4)).astype(np.float32)
  y = np.array([0, 1, 2, 3, 1, 0], np.int32)
  loss = np.asarray(classification.Classification().losses(logits, {"y": y}))
  expected = -_np_log_softmax(logits.astype(np.float64))[np.arange(6), y]
  np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_label_smoothing_and_class_weights_match_numpy():
  rng = np.random.default_rng(1)
  logits = rng.normal(size=(5, 3)).astype(np.float32)
  y = np.array([0, 2, 1, 1, 2], np.int32)
  s, w = 0.1, (1.0, 2.0, 0.5)
  loss = np.asarray(classification.Classification(label_smoothing=s, class_weights=w)
                    .losses(logits, {"y": y}))
  target = np.full((5, 3), s / 3)
  target[np.arange(5), y] += 1 - s
  expected = -(target * _np_log_softmax(logits.astype(np.float64))).sum(-1) * np.array(w)[y]
  np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_accuracy_and_probs():
  logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0]], np.float32)
  task = classification.Classification()
  acc = np.asarray(task.metrics(logits, {"y": np.array([0, 2, 2])})["accuracy"])
  np.testing.assert_array_equal(acc, [1.0, 0.0, 1.0])
  probs = np.asarray(task.predict(logits)["probs"])
  np.testing.assert_allclose(probs, np.exp(_np_log_softmax(logits.astype(np.float64))), rtol=1e-5)


def test_bad_settings_are_rejected():
  with pytest.raises(ValueError, match="label_smoothing"):
    classification.Classification(label_smoothing=1.0)
  with pytest.raises(ValueError, match="class_weights"):
    classification.Classification(class_weights=(1.0, 2.0)).losses(
        np.zeros((2, 3), np.float32), {"y": np.array([0, 1])})
  assert classification.Classification(class_weights=()).class_weights is None


# ---- statistics ----------------------------------------------------------------------------------

def test_wilson_interval_against_hand_value_and_scipy():
  # Hand-computed: 8/10, z = 1.959964: centre 0.7168, half-width 0.2277.
  low, high = stats.wilson_interval(8, 10)
  assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
  for k, n in [(0, 30), (3, 30), (27, 30), (30, 30), (55, 100)]:
    ref = scipy_stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    np.testing.assert_allclose(stats.wilson_interval(k, n), (ref.low, ref.high), atol=1e-9)


def test_wilson_interval_ends_are_exact():
  assert stats.wilson_interval(30, 30)[1] == 1.0 and stats.wilson_interval(0, 30)[0] == 0.0


def test_binomial_p_value_known_cases():
  # 10/10 correct guessing among 2 classes: P = 0.5^10.
  assert stats.binomial_p_value(10, 10, 0.5) == pytest.approx(0.5 ** 10)
  # 0 correct: P(X >= 0) = 1.
  assert stats.binomial_p_value(0, 30, 0.1) == pytest.approx(1.0)
  # 6/30 at chance 0.1: sum_{k>=6} C(30,k) 0.1^k 0.9^(30-k), by hand.
  tail = sum(math.comb(30, k) * 0.1 ** k * 0.9 ** (30 - k) for k in range(6, 31))
  assert stats.binomial_p_value(6, 30, 0.1) == pytest.approx(tail, rel=1e-9)
  assert stats.binomial_p_value(6, 30, 0.1) > 0.05  # 6/30 is not significant vs 10%
  assert stats.binomial_p_value(9, 30, 0.1) < 0.05


def test_majority_rate():
  assert stats.majority_rate([0, 1, 1, 2, 1], 4) == (0.6, 1)


# ---- report --------------------------------------------------------------------------------------

def _onehot_probs(pred, num_classes, confidence=0.9):
  probs = np.full((len(pred), num_classes), (1 - confidence) / (num_classes - 1))
  probs[np.arange(len(pred)), pred] = confidence
  return probs


def test_report_matches_sklearn(tmp_path):
  rng = np.random.default_rng(3)
  y = rng.integers(0, 4, 60)
  pred = np.where(rng.random(60) < 0.7, y, rng.integers(0, 4, 60))
  probs = _onehot_probs(pred, 4)
  names = ["a", "b", "c", "d"]
  history = [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.5 + 0.01 * e, "val_loss": 1.2 / e,
              "val_accuracy": 0.45 + 0.01 * e, "lr": 1e-3} for e in range(1, 6)]
  result, text = report_lib.report(split={"x": np.zeros((60, 2, 1)), "y": y}, predictions={"probs": probs},
                                   meta={"class_names": names}, history=history,
                                   val_metrics={"accuracy": 0.5}, plots_dir=tmp_path / "plots",
                                   split_name="test")
  assert result["accuracy"] == pytest.approx(sk_metrics.accuracy_score(y, pred))
  ref = sk_metrics.classification_report(y, pred, target_names=names, output_dict=True, zero_division=0)
  for name in names:
    for key, ref_key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
      assert result["per_class"][name][key] == pytest.approx(ref[name][ref_key])
    assert result["per_class"][name]["support"] == ref[name]["support"]
  assert result["macro_avg"]["f1"] == pytest.approx(ref["macro avg"]["f1-score"])
  assert result["weighted_avg"]["recall"] == pytest.approx(ref["weighted avg"]["recall"])
  np.testing.assert_array_equal(result["confusion_matrix"], sk_metrics.confusion_matrix(y, pred))
  assert result["loss"] == pytest.approx(sk_metrics.log_loss(y, probs, labels=range(4)))
  assert result["chance_level"] == 0.25
  assert (tmp_path / "plots" / "confusion_matrix.png").stat().st_size > 0
  assert (tmp_path / "plots" / "history.png").stat().st_size > 0
  assert json.loads((tmp_path / "labels.json").read_text()) == {"class_names": names}
  json.dumps(result)  # JSON-able as the engine writes it
  assert result["better_than_chance"] and "NOT better than chance" not in text


def test_report_says_not_better_than_chance_on_noise(tmp_path):
  rng = np.random.default_rng(4)
  y = np.repeat(np.arange(10), 3)  # 30 balanced test examples, like the seed's test split
  probs = rng.dirichlet(np.ones(10), 30)
  result, text = report_lib.report(split={"y": y}, predictions={"probs": probs}, meta={}, history=[],
                                   val_metrics={"accuracy": 0.9}, plots_dir=tmp_path, split_name="test")
  assert not result["better_than_chance"]
  assert result["p_value_vs_chance"] >= 0.05
  assert "NOT better than chance" in text
  # Validation 0.9 is far outside the interval of a near-chance test accuracy.
  assert result["val_outside_interval"]
  assert "differ by more than the 95% interval" in text


def test_report_lists_skipped_sequences(tmp_path):
  skipped = [skipped_lib.item("b/3", "missing_frames", "2 of 4 frames missing", "b"),
             skipped_lib.item("b/7", "missing_frames", "", "b"),
             skipped_lib.item("b/9", "wrong_shape", "0.npy: shape (5,)", "b")]
  meta = {"class_names": ["a", "b"], "skipped": skipped}
  result, text = report_lib.report(split={"y": np.array([0, 1])}, predictions={"probs": np.eye(2)},
                                   meta=meta, history=[], val_metrics={}, plots_dir=tmp_path / "plots",
                                   split_name="test")
  assert result["skipped"]["total"] == 3 and result["skipped"]["items"] == skipped
  assert result["skipped"]["by_reason"] == {"missing_frames": 2, "wrong_shape": 1}
  assert "| b | missing\\_frames: 2, wrong\\_shape: 1 |" in text
  assert "| b/9 | wrong\\_shape | 0.npy: shape (5,) |" in text


def test_report_after_skipped_workout_recordings(tmp_path):
  """A folder with bad recordings (24 joints, no fps, rep_starts out of range or unsorted, unknown
  label) loads with those skipped, and the report lists them per reason instead of failing."""
  from research.data.synthetic import workout as synthetic_workout
  synthetic_workout.generate(str(tmp_path / "data"), sessions=3, seed=2, sets_per_exercise=1, min_reps=2,
                             max_reps=2)
  good = dict(np.load(tmp_path / "data" / "session_000.npz"))
  frames = len(good["angles"])
  bad = {"joints24": {**good, "angles": good["angles"][:, :24], "joint_names": good["joint_names"][:24]},
         "nofps": {k: v for k, v in good.items() if k != "fps"},
         "range": {**good, "rep_starts": np.asarray([5, frames + 3])},
         "unsorted": {**good, "rep_starts": good["rep_starts"][::-1]},
         "label": {**good, "exercise": np.where(good["exercise"] == "squat", "lunge", good["exercise"])}}
  for name, arrays in bad.items():
    np.savez(tmp_path / "data" / f"{name}.npz", **arrays)
  config = load_config("tcn", data__path=str(tmp_path / "data"))
  data = loaders.load_workout(config.data, seed=0)
  reasons = {s["item"]: s["reason"] for s in data.meta["skipped"]}
  assert reasons == {"joints24.npz": "wrong_shape", "nofps.npz": "missing_fps",
                     "range.npz": "rep_starts_out_of_range", "unsorted.npz": "rep_starts_unsorted",
                     "label.npz": "unknown_label"}
  probs = np.eye(5)[data.test["y"]]
  result, text = REPORTS["classification"](split=data.test, predictions={"probs": probs}, meta=data.meta,
                                           history=[], val_metrics={}, plots_dir=tmp_path / "plots",
                                           split_name="test")
  assert result["skipped"]["total"] == 5 and "5 inputs were left out" in text
  assert "| unsorted.npz | rep\\_starts\\_unsorted |" in text


def test_names_from_the_data_are_escaped_and_drawn_literally(tmp_path):
  """Class names with mathtext, Markdown and HTML: the plots draw and report.md shows them as written."""
  names = ["$_^$", "<b>bold</b>|x", "[link](http://e.x)", "$\\foo$"]
  y = np.array([0, 1, 2, 3, 0, 1, 2, 3])
  history = [{"epoch": 1, "accuracy": 0.5, "val_accuracy": 0.4, "loss": 1.0, "val_loss": 1.1}]
  result, text = report_lib.report(split={"y": y}, predictions={"probs": _onehot_probs(y, 4)},
                                   meta={"class_names": names, "skipped": [skipped_lib.item("<i>.npz", "x|y")]},
                                   history=history, val_metrics={}, plots_dir=tmp_path / "plots",
                                   split_name="test")
  assert (tmp_path / "plots" / "confusion_matrix.png").exists() and (tmp_path / "plots" / "history.png").exists()
  assert result["class_names"] == names  # JSON keeps the raw names
  assert "| \\$\\_^\\$ |" in text and "&lt;b>bold&lt;/b>\\|x" in text and "\\[link\\](http://e.x)" in text
  assert "<b>" not in text and "<i>" not in text and "| &lt;i>.npz | x\\|y |" in text
  for line in text.splitlines():  # every table row keeps its column count
    if line.startswith("| true"):
      assert line.count(" | ") == len(names)


def test_report_majority_baseline_on_imbalanced_split(tmp_path):
  y = np.array([0] * 16 + [1] * 2 + [2] * 2)
  probs = _onehot_probs(np.zeros(20, int), 3)  # always the majority class: 80% accuracy
  result, text = report_lib.report(split={"y": y}, predictions={"probs": probs}, meta={}, history=[],
                                   val_metrics={}, plots_dir=tmp_path, split_name="test")
  assert result["better_than_chance"] and not result["better_than_majority"]
  assert result["majority_rate"] == 0.8
  assert "NOT better than always predicting the majority class" in text


def test_write_labels(tmp_path):
  report_lib.write_labels(tmp_path, ["Hello", "Yes"])
  assert json.loads((tmp_path / "labels.json").read_text()) == {"class_names": ["Hello", "Yes"]}

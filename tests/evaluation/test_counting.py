"""Repetition counting: stitching, peak picking on synthetic traces, set counts, metrics, report."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from conftest import ROOT, load_config
from research.evaluation import REPORTS
from research.data import layouts
from research.data import windows
from research.evaluation import classify_and_segment as cs_report
from research.evaluation import counting


def _trace(num_frames, starts, noise, seed, sigma=3.4):
  t = np.arange(num_frames)[:, None]
  bumps = np.exp(-0.5 * ((t - np.asarray(starts)[None]) / sigma) ** 2).max(1) if len(starts) else 0 * t[:, 0]
  return np.clip(bumps + np.random.default_rng(seed).normal(0, noise, num_frames), 0, 1)


@pytest.mark.parametrize("seed", range(5))
def test_peak_picking_recovers_known_counts(seed):
  rng = np.random.default_rng(seed)
  count = int(rng.integers(3, 15))
  gaps = rng.integers(25, 90, count)
  starts = 20 + np.cumsum(gaps) - gaps[0]
  prob = _trace(int(starts[-1] + 40), starts, noise=0.05, seed=seed)
  peaks = counting.pick_peaks(prob, min_spacing=15, height=0.5)
  assert len(peaks) == count
  assert np.abs(peaks - starts).max() <= 2


def test_peak_picking_spacing_height_and_edges():
  prob = np.zeros(100)
  prob[[10, 18, 60]] = [0.9, 0.8, 0.7]  # 10 and 18 are 8 frames apart: the higher one wins
  prob[40] = 0.3  # below the height
  np.testing.assert_array_equal(counting.pick_peaks(prob, min_spacing=15, height=0.5), [10, 60])
  np.testing.assert_array_equal(counting.pick_peaks(prob, min_spacing=5, height=0.5), [10, 18, 60])
  np.testing.assert_array_equal(counting.pick_peaks(prob, min_spacing=5, height=0.2), [10, 18, 40, 60])
  edge = np.zeros(30)
  edge[0], edge[29] = 1.0, 0.8
  np.testing.assert_array_equal(counting.pick_peaks(edge, 10, 0.5), [0, 29])
  assert len(counting.pick_peaks(np.zeros(50), 10, 0.5)) == 0


def test_stitch_averages_covering_windows():
  values = np.asarray([[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]])
  out = counting.stitch(values, [0, 2], num_frames=6)
  np.testing.assert_allclose(out[:5], [1.0, 2.0, (3.0 + 5.0) / 2, 6.0, 7.0])
  assert np.isnan(out[5])
  class_values = np.stack([values, -values], -1)  # (N, W, C)
  np.testing.assert_allclose(counting.stitch(class_values, [0, 2], 5)[:, 1], -out[:5])
  with pytest.raises(ValueError, match="do not fit"):
    counting.stitch(values, [0, 4], num_frames=6)


def test_smooth_labels_and_segments():
  labels = np.asarray([4] * 20 + [0] * 3 + [4] * 10 + [1] * 40 + [2] * 5 + [1] * 30 + [4] * 20)
  smooth = counting.smooth_labels(labels, min_segment=15)
  expected = np.asarray([4] * 33 + [1] * 75 + [4] * 20)
  np.testing.assert_array_equal(smooth, expected)
  assert counting.segments(smooth, none_index=4) == [{"start": 33, "end": 108, "label": 1}]


def test_bridge_gaps_only_inside_one_exercise():
  labels = np.asarray([4] * 10 + [1] * 20 + [4] * 5 + [1] * 20 + [4] * 50 + [1] * 10 + [4] * 5 + [2] * 10)
  bridged = counting.bridge_gaps(labels, none_index=4, max_gap=30)
  # The 5-frame pause between squats is filled; the 50-frame rest and the squat->pull-up gap stay.
  expected = labels.copy()
  expected[30:35] = 1
  np.testing.assert_array_equal(bridged, expected)
  assert len(counting.segments(bridged, 4)) == 3


def test_count_in_sets_and_metrics_hand_computed():
  sets = [{"start": 10, "end": 50}, {"start": 100, "end": 160}]
  peaks = [8, 20, 30, 49, 53, 70, 120, 158]
  assert counting.count_in_sets(peaks, sets, tolerance=2) == [[8, 20, 30, 49], [120, 158]]
  assert counting.count_in_sets(peaks, sets, tolerance=0) == [[20, 30, 49], [120, 158]]
  result = counting.counting_metrics([10, 5, 8, 4], [9, 5, 11, 4])
  assert result["mae_relative"] == pytest.approx((1 / 10 + 0 + 3 / 8 + 0) / 4)
  assert result["mae"] == pytest.approx(1.0)
  assert result["off_by_one"] == pytest.approx(0.75)
  assert result["exact"] == pytest.approx(0.5)
  assert result["mean_signed_error"] == pytest.approx(0.5)
  low, high = result["off_by_one_interval_95"]
  assert low < 0.75 < high


def test_analyse_recording_end_to_end_on_synthetic_traces():
  starts = [100, 160, 220, 280, 500, 570, 640]
  prob = _trace(800, starts, noise=0.03, seed=0)
  class_probs = np.zeros((800, 5))
  class_probs[:, 4] = 1.0
  class_probs[95:330, 0], class_probs[95:330, 4] = 1.0, 0.0
  class_probs[495:700, 1], class_probs[495:700, 4] = 1.0, 0.0
  class_probs[200:205] = [0, 0, 1, 0, 0]  # a flicker shorter than min_segment is merged away
  found = counting.analyse_recording(prob, class_probs, none_index=4, min_spacing=15, height=0.5,
                                     min_segment=30, tolerance=4)
  assert [(s["label"], s["count"]) for s in found["segments"]] == [(0, 4), (1, 3)]


def _fake_split(seed=0):
  """Two 'recordings' of known reps, windows with perfect-but-noisy predictions."""
  rng = np.random.default_rng(seed)
  window, stride = 30, 5
  recordings, xs, segs, ys, recs, starts_all, seg_probs, probs = [], [], [], [], [], [], [], []
  for index, (num_frames, reps) in enumerate([(600, [100, 160, 220, 280]), (500, [150, 210, 270])]):
    labels = np.full(num_frames, 4)
    labels[reps[0]:reps[-1] + 50] = index
    target = _trace(num_frames, reps, 0.0, 0)
    noisy = _trace(num_frames, reps, 0.05, seed + index)
    starts = np.arange(0, num_frames - window + 1, stride)
    frames = starts[:, None] + np.arange(window)
    xs.append(rng.normal(size=(len(starts), window, 25)).astype(np.float32))
    segs.append(target[frames])
    seg_probs.append(noisy[frames])
    ys.append(labels[frames[:, window // 2]])
    probs.append(np.eye(5)[labels[frames[:, window // 2]]] * 0.9 + 0.02)
    recs.append(np.full(len(starts), index))
    starts_all.append(starts)
    recordings.append({"name": f"rec{index}", "path": "", "num_frames": num_frames,
                       "sets": [{"start": reps[0], "end": reps[-1] + 50, "label": index, "rep_starts": reps,
                                 "count": len(reps)}]})
  split = {"x": np.concatenate(xs), "y": np.concatenate(ys), "seg": np.concatenate(segs),
           "recording": np.concatenate(recs), "start": np.concatenate(starts_all)}
  predictions = {"probs": np.concatenate(probs), "seg_prob": np.concatenate(seg_probs)}
  meta = {"class_names": ["push-up", "squat", "pull-up", "dip", "none"], "none_class": "none",
          "sampling_rate": 30.0, "recordings": {"test": recordings, "train": recordings},
          "input_scaling": {"center": 90.0, "scale": 45.0}}
  return split, predictions, meta


EVAL = {"counting": {"min_spacing": 15, "height": 0.5, "min_segment": 30, "tolerance": 4, "max_gap": 90}}


def test_classify_and_segment_report_numbers(tmp_path):
  split, predictions, meta = _fake_split()
  result, markdown = REPORTS["classify_and_segment"](
      split=split, predictions=predictions, meta=meta, history=[], val_metrics={},
      plots_dir=tmp_path / "plots", split_name="test", eval_config=EVAL)
  seg = result["segmentation"]
  truth = split["seg"].reshape(-1) >= 0.5
  scores = predictions["seg_prob"].reshape(-1)
  assert seg["precision"] == pytest.approx(sk_metrics.precision_score(truth, scores >= 0.5))
  assert seg["recall"] == pytest.approx(sk_metrics.recall_score(truth, scores >= 0.5))
  assert seg["accuracy"] == pytest.approx(sk_metrics.accuracy_score(truth, scores >= 0.5))
  assert seg["roc_auc"] == pytest.approx(sk_metrics.roc_auc_score(truth, scores))
  count = result["counting"]
  assert [r["predicted"] for r in count["sets"]] == [4, 3]
  assert count["model"]["mae"] == 0.0 and count["model"]["off_by_one"] == 1.0
  assert count["baseline_constant_count"] == 4  # median of the 'training' counts [4, 3] rounds to 4
  assert result["classification"]["accuracy"] == pytest.approx(1.0)
  assert (tmp_path / "plots" / "reps_rec0.png").exists()
  assert "MAE relative to true count" in markdown and "ROC AUC" in markdown


def test_classify_and_segment_report_says_when_no_better_than_baseline(tmp_path):
  split, predictions, meta = _fake_split()
  rng = np.random.default_rng(1)
  predictions["seg_prob"] = rng.uniform(0, 0.4, predictions["seg_prob"].shape)  # no peak ever
  result, markdown = cs_report.report(split=split, predictions=predictions, meta=meta, history=[],
                                      val_metrics={}, plots_dir=tmp_path, split_name="test", eval_config=EVAL)
  assert any("Segmentation is NOT better" in v for v in result["verdicts"])
  assert any("Counting is NOT better" in v for v in result["verdicts"])
  assert "NOT better" in markdown


def test_analyse_recording_moves_delayed_peaks_back():
  starts = [50, 120, 190]
  prob = _trace(300, [s + 10 for s in starts], noise=0.0, seed=0)
  class_probs = np.tile(np.eye(5)[1], (300, 1))
  found = counting.analyse_recording(prob, class_probs, none_index=4, min_spacing=15, height=0.5,
                                     min_segment=30, tolerance=4, delay=10)
  np.testing.assert_array_equal(found["peaks"], starts)
  assert found["segments"][0]["count"] == 3 and np.isnan(found["seg_prob"][-1])


def test_counting_settings_come_from_the_config_and_are_checked():
  settings = counting.settings(load_config("tcn", variant=None).eval.counting)
  assert settings == {"min_spacing": 15, "height": 0.5, "min_segment": 30, "tolerance": 4, "max_gap": 90}
  split, predictions, meta = _fake_split()
  with pytest.raises(ValueError, match="config.eval.counting is missing"):
    cs_report.report(split=split, predictions=predictions, meta=meta, history=[], val_metrics={},
                     plots_dir=None, split_name="test")
  with pytest.raises(ValueError, match=r"missing \['max_gap'\]"):
    counting.settings({k: v for k, v in settings.items() if k != "max_gap"})
  with pytest.raises(ValueError, match="height must lie in"):
    counting.settings({**settings, "height": 1.5})
  with pytest.raises(ValueError, match="whole number of frames"):
    counting.settings({**settings, "min_spacing": 2.5})


def test_count_recording_with_a_predict_function(tmp_path):
  """An oracle predict function (true labels, Gaussian bumps at the true starts) counts every set
  right; count_recording needs no training code, only the function."""
  from research.data.formats import workout
  from research.data.synthetic import workout as synthetic_workout
  from research.evaluation import count_recording

  (path,) = synthetic_workout.generate(str(tmp_path), sessions=1, seed=5, sets_per_exercise=1, min_reps=3,
                                       max_reps=5)
  recording = workout.read_recording(path)
  window, stride, frames = 30, 5, len(recording.angles)
  target_T = windows.rep_start_target(frames, recording.rep_starts, 4.0)
  x_NWF, starts = windows.input_windows(recording.angles, window, stride)

  def oracle(split):
    np.testing.assert_allclose(split["x"], x_NWF)  # the recording's windows, in order
    centre = starts + window // 2
    return {"probs": np.eye(5)[recording.exercise[centre]], "seg_prob": target_T[starts[:, None] + np.arange(window)]}

  meta = {"window": window, "sampling_rate": 30.0, "class_names": list(layouts.WORKOUT_CLASSES), "none_class": "none"}
  result, traces = count_recording.count_recording(oracle, meta, recording, stride=stride,
                                                   counting_config=EVAL["counting"])
  truth = [t["true_count"] for t in result["truth"]]
  assert [t["counted"] for t in result["truth"]] == truth and sum(truth) == len(recording.rep_starts)
  assert result["truth_metrics"]["mae"] == 0.0 and len(traces["seg_prob"]) == frames
  with pytest.raises(ValueError, match="recorded at 30 fps"):
    count_recording.count_recording(oracle, {**meta, "sampling_rate": 25.0}, recording, stride=stride,
                                    counting_config=EVAL["counting"])
  imports = subprocess.run([sys.executable, "-c", "import sys, research.evaluation.count_recording; "
                            "print('research.train' in sys.modules)"], capture_output=True, text=True,
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
  assert imports.stdout.strip() == "False", imports.stderr

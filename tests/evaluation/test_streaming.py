"""Streaming predictor (window, smoothing, threshold) and the prediction-input reader."""

from __future__ import annotations

import jax
import ml_collections
import numpy as np
import pytest

from research.data import inputs
from research.data import layouts
from research.evaluation import streaming
from research.models import sign_lstm
from research.tasks import classification
from research.train import trained as run_lib


def _probs_of_last_value(x_TF):
  """Fake model: class 0 if the window's last frame is 0, else class 1, with confidence 0.9."""
  return np.array([0.9, 0.1]) if x_TF[-1, 0] == 0 else np.array([0.1, 0.9])


def test_window_smoothing_and_threshold_by_hand():
  p = streaming.StreamingPredictor(_probs_of_last_value, window=3, class_names=["a", "b"],
                                   threshold=0.6, smoothing=2)
  assert p.push([0.0]) is None and p.push([0.0]) is None  # window not yet full
  r = p.push([0.0])
  assert (r.label, r.raw_label, r.frames_seen) == ("a", "a", 3) and r.confidence == pytest.approx(0.9)
  r = p.push([1.0])  # mean of (0.9, 0.1) and (0.1, 0.9) = (0.5, 0.5): below the threshold
  assert r.label is None and r.raw_label == "b" and r.confidence == pytest.approx(0.5)
  r = p.push([1.0])
  assert r.label == "b" and r.probs["b"] == pytest.approx(0.9)
  p.reset()
  assert p.push([1.0]) is None


def test_stride_predicts_every_k_frames():
  calls = []
  p = streaming.StreamingPredictor(lambda x: calls.append(len(x)) or np.array([1.0, 0.0]), window=2,
                                   class_names=["a", "b"], stride=3)
  results = [p.push([0.0]) for _ in range(8)]
  assert [r is not None for r in results] == [False, True, False, False, True, False, False, True]
  assert calls == [2, 2, 2]


def test_from_run_matches_batch_prediction():
  """The stream's raw probabilities at frame T equal the model's on that window, and the full
  1662-value frame is reduced to the groups the model was trained on."""
  _, layout = layouts.select_keypoint_groups(["left_hand", "right_hand"])
  model = sign_lstm.SignLSTM(num_classes=3, lstm_sizes=(4, 4, 4), dense_sizes=(4,), dropout=0.0)
  variables = model.init({"params": jax.random.PRNGKey(0)}, np.zeros((1, 5, 126), np.float32), train=False)
  config = ml_collections.ConfigDict({"train": {"eval_batch_size": 4}})
  run = run_lib.Run(config=config, model=model, task=classification.Classification(), variables=variables,
                    meta={"class_names": ["x", "y", "z"], "max_length": 5, "num_features": 126,
                          "feature_layout": layout})
  p = streaming.StreamingPredictor.from_run(run, smoothing=1, threshold=0.0)
  frames = np.random.default_rng(0).normal(size=(7, 1662)).astype(np.float32)
  results = [p.push(f) for f in frames]
  assert results[3] is None and results[4] is not None
  window = frames[2:7, 1536:]
  expected = np.asarray(jax.nn.softmax(model.apply(variables, window[None], train=False)))[0]
  np.testing.assert_allclose(list(results[6].probs.values()), expected, rtol=1e-5)


def test_read_inputs_layouts(tmp_path):
  seq = tmp_path / "tree" / "Hello" / "0"
  seq.mkdir(parents=True)
  for t in range(4):
    np.save(seq / f"{t}.npy", np.full(6, t, np.float32))
  np.save(tmp_path / "tree" / "one.npy", np.zeros((3, 6)))
  np.savez(tmp_path / "tree" / "many.npz", x=np.zeros((2, 5, 6)))
  found = inputs.read_inputs(tmp_path / "tree")
  assert [(name.split("tree/")[1], x.shape) for name, x in found] == [
      ("Hello/0", (4, 6)), ("many.npz[0]", (5, 6)), ("many.npz[1]", (5, 6)), ("one.npy", (3, 6))]
  assert inputs.read_inputs(seq)[0][1][:, 0].tolist() == [0, 1, 2, 3]
  batch = inputs.prepare(found, {"num_features": 6, "feature_layout": {"format": "array", "num_features": 6}})
  assert batch["x"].shape == (4, 5, 6) and batch["mask"].sum(1).tolist() == [4, 5, 5, 3]


def test_wrong_feature_count_names_the_layout():
  _, layout = layouts.select_keypoint_groups(None)
  meta = {"num_features": 1662, "feature_layout": layout}
  with pytest.raises(ValueError, match=r"clip.npy: 258 values per frame, but this model expects 1662 "
                                       r"values per frame \(pose 33x4, face 468x3"):
    inputs.prepare_sequence(np.zeros((30, 258)), meta, "clip.npy")

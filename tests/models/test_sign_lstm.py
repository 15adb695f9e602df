"""SignLSTM: parameter count by the Keras formula, masking invariance, BatchNorm over valid frames."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import load_config, run_script
from research.models import MODELS, build_model
from research.models import sign_lstm


def _init(model, x, mask=None):
  return model.init({"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}, x,
                    train=False, mask=mask)


def test_registered_and_built_from_config():
  config = load_config("sign_lstm", variant=None)
  model = build_model(config.model, {"class_names": [str(i) for i in range(10)]})
  assert MODELS["sign_lstm"] is sign_lstm.SignLSTM
  assert model.num_classes == 10 and model.lstm_sizes == (64, 128, 64)


def test_parameter_count_matches_keras_formula():
  model = sign_lstm.SignLSTM(num_classes=10)
  variables = jax.eval_shape(lambda: _init(model, jnp.zeros((2, 30, 1662))))
  count = sum(np.prod(p.shape) for p in jax.tree_util.tree_leaves(variables["params"]))
  lstm = lambda f, h: 4 * (f * h + h * h + h)  # Keras LSTM: kernel, recurrent kernel, one bias
  expected = (lstm(1662, 64) + lstm(64, 128) + lstm(128, 64)
              + 2 * (64 + 128 + 64)  # BatchNorm gamma and beta
              + (64 * 64 + 64) + (64 * 32 + 32) + (32 * 10 + 10))
  assert count == expected == 597_418
  stats = sum(np.prod(p.shape) for p in jax.tree_util.tree_leaves(variables["batch_stats"]))
  assert stats == 2 * (64 + 128 + 64)  # moving mean and variance (Keras' non-trainable 512)


@pytest.mark.parametrize("train", [False, True])
def test_padding_does_not_change_predictions(train):
  """Padded frames (any values) change neither outputs nor, in training, BatchNorm statistics."""
  model = sign_lstm.SignLSTM(num_classes=3, lstm_sizes=(6, 7, 5), dense_sizes=(4,), dropout=0.0)
  rng = np.random.default_rng(0)
  lengths = np.array([5, 3, 4])
  x = rng.normal(size=(3, 5, 4)).astype(np.float32)
  mask = np.arange(5)[None, :] < lengths[:, None]
  variables = _init(model, x, mask)
  # Give BatchNorm non-trivial running statistics so inference mode is tested too.
  variables["batch_stats"] = jax.tree_util.tree_map(lambda v: v + 0.3, variables["batch_stats"])
  garbage = np.where(mask[..., None], x, 100.0 * rng.normal(size=x.shape)).astype(np.float32)

  @jax.jit
  def run(x_in, m_in):
    out = model.apply(variables, x_in, train=train, mask=m_in, mutable=["batch_stats"] if train else False)
    return out[0] if train else out

  clean = np.where(mask[..., None], x, 0.0).astype(np.float32)
  reference = np.asarray(run(clean, mask))
  np.testing.assert_allclose(np.asarray(run(garbage, mask)), reference, rtol=1e-5, atol=1e-5)
  if not train:  # The shortest sequence alone, unpadded, gives the same output as in the batch.
    alone = np.asarray(run(x[1:2, :3], np.ones((1, 3), bool)))
    np.testing.assert_allclose(alone, reference[1:2], rtol=1e-5, atol=1e-5)


def test_batchnorm_statistics_use_valid_frames_only():
  """The first BatchNorm's batch mean equals the NumPy mean of the first LSTM's valid outputs."""
  model = sign_lstm.SignLSTM(num_classes=2, lstm_sizes=(3, 3, 3), dense_sizes=(), dropout=0.0)
  rng = np.random.default_rng(1)
  x = rng.normal(size=(2, 4, 5)).astype(np.float32)
  mask = np.array([[True, True, True, True], [True, True, False, False]])
  variables = _init(model, x, mask)
  _, state = model.apply(variables, x, train=True, mask=mask, mutable=["batch_stats", "intermediates"])
  h_BTH, _ = sign_lstm.LSTM(3).apply({"params": variables["params"]["lstm_0"]}, x, mask)
  valid_mean = np.asarray(h_BTH)[mask].mean(0)
  momentum = model.bn_momentum
  expected_running = momentum * 0.0 + (1 - momentum) * valid_mean
  np.testing.assert_allclose(np.asarray(state["batch_stats"]["bn_0"]["mean"]), expected_running,
                             rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_smoke_config_trains_end_to_end(tmp_path):
  """One tiny real fit: report, plots and history are written; labels come from the data."""
  from research.data import load_dataset
  from research.train import fit, load_run
  config = load_config("sign_lstm", data__cache_dir=str(tmp_path / "cache"), train__epochs=1)
  report = fit(config, load_dataset(config), tmp_path / "run")
  assert report["class_names"] == ["Hello", "Thank_You", "Help"]
  test = load_dataset(config).test
  probs = load_run(tmp_path / "run").predict(test)["probs"]
  assert report["num_examples"] == 3
  assert report["accuracy"] == float((probs.argmax(1) == test["y"]).mean())
  for name in ("report.json", "report.md", "labels.json", "history.jsonl", "plots/confusion_matrix.png",
               "plots/history.png"):
    assert (tmp_path / "run" / name).exists(), name
  # launch/predict.py on one generated sequence folder, and a clear error on a wrong layout.
  sequence = next((tmp_path / "cache").glob("keypoints_synthetic/*/Help/0"))
  out = tmp_path / "preds.json"
  command = ["launch/predict.py", "--workdir", tmp_path / "run"]
  run_script(*command, "--input", sequence, "--output", out, check=True)
  (prediction,) = json.loads(out.read_text())["predictions"]
  assert prediction["label"] in report["class_names"] and prediction["frames"] == 10
  assert sum(prediction["probs"].values()) == pytest.approx(1.0, abs=1e-5)
  np.save(tmp_path / "wrong.npy", np.zeros((10, 258), np.float32))
  failed = run_script(*command, "--input", tmp_path / "wrong.npy")
  assert failed.returncode == 1 and "258 values per frame, but this model expects 1662" in failed.stderr

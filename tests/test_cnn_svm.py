"""The HHT CNN encoder, the SVM / forest head, safe checkpoints and the train -> predict path."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import calibration, model_selection, preprocessing, svm

from research.data import hht_files
from research.data.synthetic import hht as synthetic_hht
from research.heads import persist
from research.heads.svm import FeatureHead, load_head
from research.models import cnn
from research.studies import cnn_svm
from research.train import TrainingError

_CONFIG = pathlib.Path(__file__).resolve().parents[1] / "configs" / "cnn_svm.py"
_spec = importlib.util.spec_from_file_location("cnn_svm_config", _CONFIG)
cnn_svm_config = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cnn_svm_config)


# --- Encoder ---------------------------------------------------------------------------------

def test_encoder_gives_256_features_and_halves_256_to_32():
  model = cnn.HHTEncoder()
  x = jnp.ones((1, 256, 256, 1))
  variables = model.init(jax.random.PRNGKey(0), x)
  features, state = model.apply(variables, x, mutable=["intermediates"])
  assert features.shape == (1, 256)
  shapes = [state["intermediates"][f"block_{i}"][0].shape for i in range(3)]
  assert shapes == [(1, 128, 128, 64), (1, 64, 64, 128), (1, 32, 32, 256)]
  kernels = [variables["params"][f"conv_{i}"]["kernel"].shape for i in range(3)]
  assert kernels == [(4, 4, 1, 64), (4, 4, 64, 128), (4, 4, 128, 256)]


def test_encoder_block_matches_numpy():
  """One block: conv (kernel 4, stride 2, pad 1) -> instance norm -> LeakyReLU(0.2) -> mean."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 8, 8, 1)).astype(np.float32)
  model = cnn.HHTEncoder(features=(3,))
  params = model.init(jax.random.PRNGKey(1), x)["params"]["conv_0"]
  kernel, bias = np.asarray(params["kernel"]), np.asarray(params["bias"])
  padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  conv = np.zeros((2, 4, 4, 3))
  for i in range(4):
    for j in range(4):
      patch = padded[:, 2 * i:2 * i + 4, 2 * j:2 * j + 4, :]
      conv[:, i, j] = np.einsum("bhwc,hwcd->bd", patch, kernel) + bias
  mean, var = conv.mean((1, 2), keepdims=True), conv.var((1, 2), keepdims=True)
  normed = (conv - mean) / np.sqrt(var + 1e-5)
  expected = np.where(normed > 0, normed, 0.2 * normed).mean((1, 2))
  found = model.apply({"params": {"conv_0": params}}, x)
  np.testing.assert_allclose(found, expected, atol=1e-5)


def test_classifier_logits_and_encode():
  model = cnn.HHTClassifier(num_classes=6, features=(4, 8, 16))
  x = jnp.ones((3, 32, 32, 1))
  variables = model.init(jax.random.PRNGKey(0), x, train=False)
  assert model.apply(variables, x, train=False).shape == (3, 6)
  assert model.apply(variables, x, train=False, method="encode").shape == (3, 16)


# --- Heads -----------------------------------------------------------------------------------

def _features(n_per_class=15, dim=12, seed=0):
  rng = np.random.default_rng(seed)
  y = np.repeat(np.arange(6), n_per_class)
  x = rng.normal(size=(len(y), dim)) + 2.0 * np.eye(6, dim)[y]
  return x, y


def test_svm_probabilities_sum_to_one_and_match_scikit_learn():
  x, y = _features()
  head = FeatureHead(kind="svm", C=10.0).fit(x, y)
  probs = head.predict_proba(x)
  assert probs.shape == (90, 6)
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)
  scaler = preprocessing.StandardScaler().fit(x)
  reference = calibration.CalibratedClassifierCV(
      svm.SVC(C=10.0, kernel="rbf"), method="sigmoid", ensemble=False,
      cv=model_selection.StratifiedKFold(5, shuffle=True, random_state=0)).fit(scaler.transform(x), y)
  np.testing.assert_allclose(probs, reference.predict_proba(scaler.transform(x)), atol=1e-12)
  assert (head.predict(x) == y).mean() > 0.8


def test_missing_class_gets_zero_probability():
  x, y = _features()
  keep = y != 2
  probs = FeatureHead().fit(x[keep], y[keep]).predict_proba(x)
  assert probs.shape == (90, 6) and np.all(probs[:, 2] == 0)
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)


@pytest.mark.parametrize("kind", ["svm", "random_forest"])
def test_head_round_trip_gives_identical_probabilities(tmp_path, kind):
  x, y = _features()
  head = FeatureHead(kind=kind, n_estimators=15).fit(x, y)
  head.save(tmp_path)
  loaded = load_head(tmp_path)
  assert loaded.settings() == head.settings()
  np.testing.assert_array_equal(loaded.predict_proba(x), head.predict_proba(x))
  np.testing.assert_allclose(loaded.predict_proba(x).sum(1), 1.0, atol=1e-12)


def test_tampered_arrays_are_refused(tmp_path):
  x, y = _features()
  FeatureHead().fit(x, y).save(tmp_path)
  with np.load(tmp_path / "head.npz") as stored:
    arrays = dict(stored)
  key = next(k for k, v in arrays.items() if v.ndim == 2)  # e.g. the support vectors
  arrays[key] = arrays[key] + 1.0
  np.savez(tmp_path / "head.npz", **arrays)
  with pytest.raises(persist.TamperedFileError, match="SHA-256"):
    load_head(tmp_path)


def test_structure_naming_another_class_is_refused(tmp_path):
  x, y = _features()
  FeatureHead().fit(x, y).save(tmp_path)
  record = json.loads((tmp_path / "head.json").read_text())
  record["structure"]["dict"]["model"]["estimator"] = "Popen"
  (tmp_path / "head.json").write_text(json.dumps(record))
  with pytest.raises(persist.TamperedFileError, match="not allowed"):
    load_head(tmp_path)


def test_head_files_hold_no_pickle(tmp_path):
  x, y = _features()
  FeatureHead(kind="random_forest", n_estimators=3).fit(x, y).save(tmp_path)
  with np.load(tmp_path / "head.npz", allow_pickle=False) as stored:  # raises on object arrays
    assert all(not stored[k].dtype.hasobject for k in stored.files)


# --- Checkpoints and the workflow ------------------------------------------------------------

@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  folder = tmp_path_factory.mktemp("hht_data")
  synthetic_hht.generate(str(folder), n_samples=5, n_test=3, image_size=32, num_samples=512)
  return folder


def _smoke(data_dir, **head):
  config = cnn_svm_config.get_config("smoke")
  config.data.path = str(data_dir)
  config.train.epochs = 1
  config.head.update(head)
  return config


def _same_predictions(workdir, data_dir):
  saved = json.loads((workdir / "test_predictions.json").read_text())["predictions"]
  rows = cnn_svm.predict_files(workdir, data_dir)
  by_file = {r["file"]: r for r in rows}
  assert [r["file"] for r in saved] == sorted(p.name for p in data_dir.glob("*_test_*.npz"))
  for row in saved:
    assert by_file[row["file"]]["probabilities"] == row["probabilities"]
    assert sum(row["probabilities"].values()) == pytest.approx(1.0)


def test_untrained_encoder_workflow_and_resume_rules(tmp_path, data_dir):
  workdir = tmp_path / "run"
  summary = cnn_svm.train(_smoke(data_dir, train_encoder=False), workdir)
  assert summary["final"]["epoch"] == 0 and summary["test_predictions"] == 3
  _same_predictions(workdir, data_dir)
  metadata = json.loads((workdir / "cnn_svm" / "final" / "metadata.json").read_text())
  assert metadata["encoder"].startswith("untrained")
  assert metadata["class_map"] == {str(i): n for i, n in enumerate(hht_files.CLASS_NAMES)}
  with pytest.raises(TrainingError, match="--resume"):
    cnn_svm.train(_smoke(data_dir, train_encoder=False), workdir)
  with pytest.raises(TrainingError, match="head.C"):
    cnn_svm.train(_smoke(data_dir, train_encoder=False, C=1.0), workdir, resume=True)


def test_trained_encoder_checkpoint_round_trip_and_tampering(tmp_path, data_dir):
  workdir = tmp_path / "run"
  summary = cnn_svm.train(_smoke(data_dir), workdir)
  assert summary["final"]["epoch"] == 1 and (workdir / "svm_report.json").exists()
  _same_predictions(workdir, data_dir)
  for name in ("latest", "final"):
    folder = workdir / "cnn_svm" / name
    assert {p.name for p in folder.iterdir()} == {"encoder", "head.npz", "head.json", "metadata.json"}
  # Resume trains one more epoch from the engine's latest state.
  config = _smoke(data_dir)
  config.train.epochs = 2
  assert cnn_svm.train(config, workdir, resume=True)["latest"]["epoch"] == 2
  # An edited encoder file is refused.
  final = workdir / "cnn_svm" / "final"
  victim = max((p for p in (final / "encoder").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
  victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
  with pytest.raises(persist.TamperedFileError, match="encoder"):
    cnn_svm.load_checkpoint(workdir)

"""The HHT CNN encoder, the SVM / forest head, safe checkpoints and the train -> predict path."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import calibration, model_selection, preprocessing, svm

from conftest import load_config
from research import heads
from research.data import inputs, load_dataset
from research.data.synthetic import hht as synthetic_hht
from research.heads import persist
from research.heads.forest import ForestHead
from research.heads.svm import SVMHead
from research.models import cnn
from research.train import fit, load_run

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
  head = SVMHead(num_classes=6, C=10.0).fit(x, y)
  probs = head.predict_proba(x)
  assert probs.shape == (90, 6)
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)
  scaler = preprocessing.StandardScaler().fit(x)
  reference = calibration.CalibratedClassifierCV(
      svm.SVC(C=10.0, kernel="rbf"), method="sigmoid", ensemble=False,
      cv=model_selection.StratifiedKFold(5, shuffle=True, random_state=0)).fit(scaler.transform(x), y)
  np.testing.assert_allclose(probs, reference.predict_proba(scaler.transform(x)), atol=1e-12)
  assert (probs.argmax(1) == y).mean() > 0.8


def test_missing_class_gets_zero_probability():
  x, y = _features()
  keep = y != 2
  probs = SVMHead(num_classes=6).fit(x[keep], y[keep]).predict_proba(x)
  assert probs.shape == (90, 6) and np.all(probs[:, 2] == 0)
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)


def _fitted(kind):
  x, y = _features()
  head = SVMHead(num_classes=6) if kind == "svm" else ForestHead(num_classes=6, n_estimators=15)
  return head.fit(x, y), x


@pytest.mark.parametrize("kind", ["svm", "random_forest"])
def test_head_round_trip_gives_identical_probabilities(tmp_path, kind):
  head, x = _fitted(kind)
  heads.save(tmp_path / "head", head)
  loaded, feature_map, _ = heads.load(tmp_path / "head")
  assert feature_map is None and loaded.settings() == head.settings()
  np.testing.assert_array_equal(loaded.predict_proba(x), head.predict_proba(x))
  np.testing.assert_allclose(loaded.predict_proba(x).sum(1), 1.0, atol=1e-12)


@pytest.mark.parametrize("file", ["head.npz", "head.json", "manifest.json"])
def test_any_changed_head_file_is_refused(tmp_path, file):
  head, _ = _fitted("svm")
  heads.save(tmp_path / "head", head)
  path = tmp_path / "head" / file
  if file == "head.npz":
    with np.load(path) as stored:
      arrays = dict(stored)
    key = next(k for k, v in arrays.items() if v.ndim == 2)  # e.g. the support vectors
    arrays[key] = arrays[key] + 1.0
    np.savez(path, **arrays)
  elif file == "head.json":  # a changed setting, e.g. the kernel, changes predictions
    path.write_text(path.read_text().replace('"rbf"', '"poly"'))
  else:  # a manifest naming a file that is not there
    record = json.loads(path.read_text())
    record["sha256"]["extra.npz"] = "0" * 64
    path.write_text(json.dumps(record))
  with pytest.raises(persist.TamperedFileError, match="SHA-256"):
    heads.load(tmp_path / "head")


def test_structure_naming_another_class_is_refused(tmp_path):
  head, _ = _fitted("svm")
  persist.save(tmp_path, "head", head.objects(), head.settings())
  record = json.loads((tmp_path / "head.json").read_text())
  record["structure"]["dict"]["model"]["estimator"] = "Popen"
  (tmp_path / "head.json").write_text(json.dumps(record))
  with pytest.raises(persist.TamperedFileError, match="not allowed"):
    persist.load(tmp_path, "head")


def test_forged_tree_with_out_of_range_children_is_refused(tmp_path):
  head, _ = _fitted("random_forest")
  tree = head.model.estimators_[0].tree_
  state = tree.__getstate__()
  nodes = state["nodes"].copy()
  internal = int(np.flatnonzero(nodes["left_child"] != -1)[0])
  nodes["left_child"][internal] = 10_000  # past the end of the node table
  state["nodes"] = nodes
  tree.__setstate__(state)
  persist.save(tmp_path, "head", head.objects(), head.settings())
  with pytest.raises(persist.TamperedFileError, match="outside the tree"):
    persist.load(tmp_path, "head")


def test_head_files_hold_no_pickle(tmp_path):
  head, _ = _fitted("random_forest")
  heads.save(tmp_path / "head", head)
  with np.load(tmp_path / "head" / "head.npz", allow_pickle=False) as stored:  # raises on object arrays
    assert all(not stored[k].dtype.hasobject for k in stored.files)


# --- The run: encoder -> head -> report, resume, prediction ---------------------------------

@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  folder = tmp_path_factory.mktemp("hht_data")
  synthetic_hht.generate(str(folder), n_samples=5, n_test=3, image_size=32, num_samples=512)
  return folder


def _smoke(data_dir, epochs=1):
  return load_config("cnn_svm", data__path=str(data_dir), train__epochs=epochs)


def _predictions_match_the_saved_ones(workdir, data_dir):
  saved = json.loads((workdir / "test_predictions.json").read_text())["predictions"]
  run = load_run(workdir)
  names, batch = inputs.read_for_prediction(data_dir, run.config.data, run.meta)
  probs = dict(zip(names, run.predict(batch)["probs"]))
  assert [r["input"] for r in saved] == sorted(p.name for p in data_dir.glob("*_test_*.npz"))
  for row in saved:
    np.testing.assert_allclose(list(row["probs"].values()), probs[row["input"]], atol=1e-6)
    assert sum(row["probs"].values()) == pytest.approx(1.0)


@pytest.mark.slow
def test_untrained_encoder_run(tmp_path, data_dir):
  workdir = tmp_path / "run"
  report = fit(_smoke(data_dir, epochs=0), load_dataset(_smoke(data_dir, epochs=0)), workdir)
  assert report["best_epoch"] == 0 and report["test_predictions"] == 3
  assert report["head"]["kind"] == "svm"
  _predictions_match_the_saved_ones(workdir, data_dir)


@pytest.mark.slow
def test_trained_encoder_run_resumes_and_refits_the_head(tmp_path, data_dir):
  workdir = tmp_path / "run"
  fit(_smoke(data_dir), load_dataset(_smoke(data_dir)), workdir)
  assert {p.name for p in (workdir / "head").iterdir()} == {"final", "latest"}
  _predictions_match_the_saved_ones(workdir, data_dir)
  # Resume trains one more epoch from the engine's latest state, then refits both heads.
  config = _smoke(data_dir, epochs=2)
  config.head.svm.C = 1.0  # head settings may change on resume: the head is refitted
  report = fit(config, load_dataset(config), workdir)
  assert len(load_run(workdir).history) == 2 and report["head"]["C"] == 1.0
  # An edited head file is refused.
  victim = workdir / "head" / "final" / "head.npz"
  blob = bytearray(victim.read_bytes())
  blob[len(blob) // 2] ^= 0xFF
  victim.write_bytes(bytes(blob))
  with pytest.raises(persist.TamperedFileError, match="SHA-256"):
    load_run(workdir)

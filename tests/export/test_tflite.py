"""TFLite export: parity with JAX per quantization mode, op checks, clear refusals.

Every test needing TensorFlow is marked `export` and skips when it is absent;
the scan-unrolling check is pure JAX and always runs. Tests that train a workdir are
`slow`; the fast tier converts small functions.
"""

from __future__ import annotations

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from research import config_file
from research.export import pipeline, rewrite
from research.export.tflite import ops, parity
from research.export.tflite.exportable import Exportable, export_exportable
from research.heads.svm import SVMHead
from research.models.lstm import LSTMRegressor

CONFIGS = pathlib.Path(__file__).resolve().parents[2] / "configs"


def _tf():
  return pytest.importorskip("tensorflow")


def _lstm():
  model = LSTMRegressor(hidden_sizes=(8, 8))
  x = np.random.default_rng(0).normal(size=(12, 10, 5)).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(0), x, train=False)
  return (lambda x: model.apply(variables, x, train=False)), x


def test_unrolled_scans_agree_and_leave_no_loop():
  fn, x = _lstm()
  unrolled, counts = rewrite.rewrite(fn, jax.ShapeDtypeStruct((1,) + x.shape[1:], jnp.float32),
                                     profile=rewrite.UNROLL)
  assert rewrite.count_scans(fn, x[:1]) == 2
  np.testing.assert_allclose(np.asarray(unrolled(x[:1])), np.asarray(fn(x[:1])), atol=1e-6)
  assert "while" in jax.jit(fn).lower(x[:1]).as_text()
  assert "while" not in jax.jit(unrolled).lower(x[:1]).as_text()
  assert counts == {"scan_unrolled": 2}


@pytest.mark.parametrize("profile", ["unroll", "micro"])
def test_a_scan_inside_a_cond_branch_is_unrolled_by_either_profile(profile):
  """Nested jaxprs are walked by the same rules: no loop is left inside the branch."""
  x = np.random.default_rng(5).normal(size=(1, 5, 4)).astype(np.float32)

  def fn(x_BTF):
    step = lambda c_BF, x_BF: (c_BF + x_BF, c_BF)
    scan = lambda x_BTF: jax.lax.scan(step, jnp.zeros_like(x_BTF[:, 0]), x_BTF.swapaxes(0, 1))[1].swapaxes(0, 1)
    return jax.lax.cond(x_BTF.sum() > 0, scan, lambda x_BTF: -x_BTF, x_BTF)

  rewritten, counts = rewrite.rewrite(fn, jax.ShapeDtypeStruct(x.shape, jnp.float32), profile=profile)
  for sign in (1.0, -1.0):  # both branches
    np.testing.assert_allclose(jax.jit(rewritten)(sign * x), fn(sign * x), atol=1e-6)
  assert counts == {"scan_unrolled": 1}
  assert "while" in jax.jit(fn).lower(x).as_text() and "while" not in jax.jit(rewritten).lower(x).as_text()


def test_converter_error_names_the_ops():
  message = ("loc(callsite(\"sort\" at callsite(\"jit(f)/jit(sort)\"(callsite(: error: 'vhlo.sort_v1' "
             "op is not part of the vhlo support yet.\n"
             "error: 'tf.Igamma' op is neither a custom op nor a flex op")
  assert ops.ops_in_converter_error(message) == ["tf.Igamma", "vhlo.sort_v1"]
  assert ops.jax_ops_in_converter_error(message) == ["sort"]
  error = ops.explain_converter_error(message, "model x")
  assert "jnp.sort" in str(error) and "model x" in str(error)
  entries = [{"op": "ADD", "custom": False}, {"op": "FlexSort", "custom": True}, {"op": "Mine", "custom": True}]
  assert ops.non_builtin(entries) == ["FlexSort", "Mine"]


@pytest.mark.export
def test_lstm_fp32_parity_with_dynamic_batch():
  """A symbolic batch (fixed batch 1 is covered by every other test)."""
  _tf()
  from research.export.tflite import converter as tflite
  fn, x = _lstm()
  exported = tflite.convert(fn, x, dynamic_batch=True)
  summary = exported.summary()
  assert summary["input"]["shape"] == [-1, 10, 5]
  assert exported.ops.get("WHILE", 0) >= 2 and not exported.unrolled
  got = parity.run(exported.model, summary, x)
  result = parity.compare({"output": np.asarray(fn(x))}, got, {"output": "value"})
  assert result["output"]["max_abs_diff"] <= parity.FP32_TOLERANCE


@pytest.mark.export
def test_int8_classifier_has_int8_io_and_agrees(conv_net):
  _tf()
  from research.export.tflite import converter as tflite
  model = conv_net
  rng = np.random.default_rng(1)
  x = rng.normal(size=(64, 20, 2)).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(1), x, train=False)
  # A confident head, so that argmax agreement measures quantization, not ties.
  variables = jax.tree_util.tree_map(lambda a: a, variables)
  variables["params"]["Dense_1"]["kernel"] = variables["params"]["Dense_1"]["kernel"] * 20.0

  def fn(x):
    return {"probs": jax.nn.softmax(model.apply(variables, x, train=False), -1)}

  reference = jax.device_get(fn(x))
  sizes = {}
  for mode in ("none", "dynamic", "int8"):
    exported = tflite.convert(fn, x, quantize=mode, representative=x[:32], int8_io=mode == "int8")
    summary = exported.summary()
    sizes[mode] = len(exported.model)
    got = parity.run(exported.model, summary, x)
    row = parity.compare(reference, got, {"probs": "classes"}, {"probs": reference["probs"].argmax(-1)})["probs"]
    if mode == "none":
      assert row["max_abs_diff"] <= parity.FP32_TOLERANCE
    else:
      assert row["agreement"] >= 0.9, (mode, row)
  assert summary["input"]["dtype"] == "int8" and summary["outputs"]["probs"]["dtype"] == "int8"
  assert set(exported.ops) <= set(ops.op_counts(exported.model))
  # 2-byte-or-less weights: the 64x64-ish Dense layers shrink under int8.
  assert sizes["int8"] < sizes["none"] and sizes["dynamic"] < sizes["none"]
  with pytest.raises(ValueError, match="fixed batch"):
    tflite.convert(fn, x, quantize="int8", representative=x, dynamic_batch=True)


@pytest.mark.export
def test_int8_lstm_is_unrolled_and_close():
  _tf()
  from research.export.tflite import converter as tflite
  fn, x = _lstm()
  exported = tflite.convert(fn, x, quantize="int8", representative=x)
  assert exported.unrolled and "WHILE" not in exported.ops
  got = parity.run(exported.model, exported.summary(), x)
  assert np.abs(got["output"] - np.asarray(fn(x))).max() < 0.05


@pytest.mark.export
def test_op_without_builtin_gives_clear_error():
  _tf()
  from research.export.tflite import converter as tflite
  with pytest.raises(ops.UnsupportedOpsError, match=r"sort.*built-in ops only.*jnp\.sort"):
    tflite.convert(lambda x: jnp.sort(x, axis=-1) * 2.0, np.zeros((1, 8), np.float32), where="sorter")
  with pytest.raises(ops.UnsupportedOpsError, match=r"\['top_k'\].*lax\.top_k"):
    tflite.convert(lambda x: jax.lax.top_k(x, 2)[0], np.zeros((1, 8), np.float32))


@pytest.mark.export
def test_custom_op_in_a_flatbuffer_is_refused():
  tf = _tf()
  fn = tf.function(lambda x: tf.math.igamma(x, x), input_signature=[tf.TensorSpec((2,), tf.float32)])
  converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
  converter.allow_custom_ops = True
  model = converter.convert()
  assert ops.op_counts(model) == {"Igamma": 1}
  with pytest.raises(ops.UnsupportedOpsError, match="Igamma"):
    ops.check_builtin_only(model)


@pytest.mark.export
@pytest.mark.parametrize("family", ["lstm_filter"] + [pytest.param(name, marks=pytest.mark.slow) for name in
                                                      ("inception_time", "maxcrnn", "sign_lstm", "tcn")])
def test_every_family_exports_with_fp32_parity(family, smoke_family):
  """Randomly initialised at the smoke size: the exported inference path matches JAX."""
  _tf()
  from research.export.tflite import converter as tflite
  from research.models import build_model
  from research.tasks import build_task
  config, shape = smoke_family(family)
  meta = {"class_names": ["a", "b", "c"], "input_shape": list(shape)}
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  x = np.random.default_rng(2).normal(size=(6,) + shape).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(0), x, train=False)

  def fn(x):
    return task.predict(model.apply(variables, x, train=False))

  exported = tflite.convert(fn, x, where=family)
  got = parity.run(exported.model, exported.summary(), x)
  reference = jax.device_get(fn(x))
  assert set(got) == set(reference)
  for key in reference:
    np.testing.assert_allclose(got[key], reference[key], atol=parity.FP32_TOLERANCE, err_msg=key)


@pytest.mark.export
@pytest.mark.slow
def test_smoke_workdir_exports_with_parity(smoke_family, tmp_path):
  """One smoke-trained workdir (MaxCRNN: scans, unrolled for int8) through the launcher's call;
  every family's conversion is checked by test_every_family_exports_with_fp32_parity."""
  _tf()
  from research.data import load_dataset
  from research.train import fit
  config, _ = smoke_family("maxcrnn")
  fit(config, load_dataset(config), tmp_path)
  outcome = pipeline.export(tmp_path, modes=("none", "int8"), parity_examples=16,
                            calibration_examples=8, latency_repeats=2)
  result = outcome.record
  fp32, int8 = result["exports"]
  assert fp32["fp32_within_tolerance"], fp32["parity"]
  assert int8["tflite_bytes"] > 0 and int8["input"]["dtype"] == "float32"
  assert int8["scans_unrolled"] and "WHILE" not in int8["ops"]
  assert int8["parity"]["probs"]["agreement"] >= 0.5, int8["parity"]
  labels = json.loads((tmp_path / "labels.json").read_text())
  exported = json.loads((tmp_path / "export.json").read_text())
  assert labels["class_names"] == list(load_dataset(config).meta.get("class_names") or [])
  assert set(exported["outputs"]) == set(fp32["parity"])
  assert (tmp_path / "model.tflite").stat().st_size == fp32["tflite_bytes"]
  assert (tmp_path / "model.int8.tflite").exists()
  assert outcome.exit_code == 0 and not outcome.errors
  assert pipeline.table(result) in outcome.text and f"Wrote {tmp_path}/model.tflite" in outcome.text


@pytest.mark.export
@pytest.mark.slow
def test_minirocket_workdir_exports_with_desktop_and_tflm_parity(tmp_path):
  """Fixed convolutions, comparisons, means and the ridge's dense layer: fp32 parity (judged by the
  classes: PPV features are threshold counts) on LiteRT and under TFLite Micro; float16 keeps the
  labels; int8 is refused with its reason."""
  _tf()
  from research.data import load_dataset
  from research.train import fit
  config = config_file.load(CONFIGS / "minirocket.py:smoke")
  fit(config, load_dataset(config), tmp_path)
  with pytest.raises(pipeline.NotExportableError, match="quantize=int8 is refused.*'dynamic', 'float16'"):
    pipeline.export(tmp_path, modes=("none", "int8"))
  assert not (tmp_path / "model.tflite").exists()
  result = pipeline.export(tmp_path, modes=("none", "float16"), parity_examples=8,
                           calibration_examples=8, latency_repeats=2).record
  fp32, half = result["exports"]
  assert result["fp32_judged_by"] == "class agreement"
  assert fp32["fp32_within_tolerance"], fp32["parity"]
  assert fp32["tflm"]["runs"] and fp32["tflm"]["fp32_within_tolerance"], fp32["tflm"]
  assert not fp32["tflm"]["ops"]["missing"]
  assert half["parity"]["probs"]["agreement"] >= 0.75, half["parity"]


@pytest.mark.export
def test_threshold_count_features_are_judged_by_the_classes():
  from research.export.tflite.exportable import within_tolerance
  rounding_at_a_bias = {"probs": {"max_abs_diff": 2e-4, "agreement": 1.0}}
  assert within_tolerance(rounding_at_a_bias, judged_by_agreement=True)
  assert not within_tolerance(rounding_at_a_bias, judged_by_agreement=False)
  one_class_flipped = {"probs": {"max_abs_diff": 2e-4, "agreement": 0.99}}
  assert not within_tolerance(one_class_flipped, judged_by_agreement=True)
  regression = {"prediction": {"max_abs_diff": 2e-4}}  # no classes to agree: the values decide
  assert not within_tolerance(regression, judged_by_agreement=True)


@pytest.mark.export
@pytest.mark.slow
def test_forest_on_encoder_features_is_refused_with_its_reason(tmp_path):
  """A forest head on a CNN's features has neither a .tflite form nor the C export (hand-made features)."""
  from research.data import load_dataset
  from research.data.synthetic import hht as synthetic_hht
  from research.train import fit
  synthetic_hht.generate(str(tmp_path / "data"), n_samples=5, n_test=3, image_size=32, num_samples=512)
  config = config_file.load(CONFIGS / "cnn_svm.py:smoke")
  config.data.path = str(tmp_path / "data")
  config.train.epochs = 0
  config.head.kind = "random_forest"
  fit(config, load_dataset(config), tmp_path / "run")
  with pytest.raises(pipeline.NotExportableError, match="no .tflite form"):
    pipeline.export(tmp_path / "run")
  record = json.loads((tmp_path / "run" / "export.json").read_text())
  assert record["exported"] is False and "tree-ensemble" in record["reason"]


class Encoder(nn.Module):
  """A tiny CNN encoder as in the HHT CNN-SVM: Conv/InstanceNorm/LeakyReLU, stride 2, then GAP."""

  @nn.compact
  def __call__(self, x_BHWC):
    h = x_BHWC
    for features in (4, 8):
      h = nn.Conv(features, (3, 3), strides=(2, 2), padding="SAME")(h)
      h = nn.GroupNorm(num_groups=features, use_scale=False, use_bias=False)(h)  # instance norm
      h = nn.leaky_relu(h, 0.2)
    return h.mean((1, 2))


@pytest.mark.export
def test_cnn_svm_exports_in_one_graph_and_agrees_with_sklearn(tmp_path):
  _tf()
  from sklearn import preprocessing, svm
  from research.data.dataset import Dataset
  rng = np.random.default_rng(3)
  y = np.repeat(np.arange(3), 20).astype(np.int32)
  pattern = rng.normal(size=(3, 16, 16, 1)).astype(np.float32)
  x = (pattern[y] * 2.0 + rng.normal(size=(60, 16, 16, 1))).astype(np.float32)
  encoder = Encoder()
  variables = encoder.init(jax.random.PRNGKey(0), x[:1])

  def encode(x):
    return encoder.apply(variables, x)

  features = np.asarray(encode(x))
  train, held = np.arange(60) % 3 != 0, np.arange(60) % 3 == 0
  scaler = preprocessing.StandardScaler().fit(features[train])
  svc = svm.SVC(C=10.0, gamma="scale").fit(scaler.transform(features[train]), y[train])
  # Classes 0..2 of four names: the unseen class 3 must never win.
  meta = {"class_names": ["M_full", "M_half", "M_invalid", "F_full"]}
  split = lambda mask: {"x": x[mask], "y": y[mask]}
  dataset = Dataset(train=split(train), val=split(held), test=split(held), meta=meta)
  head = SVMHead(num_classes=4)
  head.scaler, head.model, head.platt = scaler, svc, np.tile([[-1.0, 0.0]], (3, 1))
  head_fn = head.jax_fn()
  exportable = Exportable(fn=lambda x: head_fn(encode(x)), variables=variables, meta=meta, config=None, notes=[])
  result = export_exportable(exportable, dataset, tmp_path, modes=("none",), latency_repeats=2)
  row = result["exports"][0]
  assert row["fp32_within_tolerance"], row["parity"]
  model = (tmp_path / "model.tflite").read_bytes()
  got = parity.run(model, row, x[held])
  expected = svc.predict(scaler.transform(features[held]))
  np.testing.assert_array_equal(got["votes"].argmax(-1), expected)
  assert row["parity"]["votes"]["accuracy_tflite"] == pytest.approx(np.mean(expected == y[held]))
  assert json.loads((tmp_path / "labels.json").read_text()) == {"class_names": meta["class_names"]}


@pytest.mark.export
@pytest.mark.slow
def test_cnn_svm_workdir_exports_probabilities_like_the_head(tmp_path):
  """The HHT CNN-SVM checkpoint: .tflite probs = head.predict_proba, votes argmax = SVC.predict."""
  _tf()
  from research.data import load_dataset
  from research.data.synthetic import hht as synthetic_hht
  from research.train import fit, load_run
  data_dir = tmp_path / "data"
  synthetic_hht.generate(str(data_dir), n_samples=5, n_test=3, image_size=32, num_samples=512)
  config = config_file.load(CONFIGS / "cnn_svm.py:smoke")
  config.data.path = str(data_dir)
  config.train.epochs = 0  # the head on the untrained encoder
  fit(config, load_dataset(config), tmp_path / "run")
  result = pipeline.export(tmp_path / "run", split_name="val", latency_repeats=2).record
  row = result["exports"][0]
  assert row["fp32_within_tolerance"], row["parity"]
  assert set(row["parity"]) == {"probs", "votes", "decision"}
  run = load_run(tmp_path / "run")
  val = load_dataset(run.config).val
  got = parity.run((tmp_path / "run" / "model.tflite").read_bytes(), row, val["x"])
  np.testing.assert_allclose(got["probs"], run.predict(val)["probs"], atol=1e-4)
  features = run.features(val)
  svc_ids = run.head.model.predict(run.head.scaler.transform(features))
  np.testing.assert_array_equal(got["votes"].argmax(-1), svc_ids)

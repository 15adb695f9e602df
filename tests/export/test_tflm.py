"""TFLite Micro: the op list, the microcontroller graph rewrites, every family under the TFLM interpreter.

Tests that run TFLM are marked `export` and skip without TensorFlow or tflite-micro; the
rewrite checks are pure JAX and always run. The per-family checks are `slow`; the fast tier
checks every rewrite rule on a small function.
"""

from __future__ import annotations

import json
import pathlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.export import pipeline, rewrite, tflm
from research.export.tflite import parity
from research.export.tflite.exportable import OUTPUTS, Exportable, continuous_max_abs_diff, export_exportable
from research.models import build_model
from research.models.lstm import LSTMRegressor
from research.tasks import build_task

# Tiny inputs per family (time axes cut where the model allows; the LSTM filter stays > 10 steps
# so its stacked outputs need the concatenation tree).
SHAPES = {"lstm_filter": (14, 5), "sign_lstm": (6, 1662), "maxcrnn": (128, 1), "tcn": (30, 25)}


def _needs_tflm():
  pytest.importorskip("tensorflow")
  pytest.importorskip("tflite_micro")


def _family(smoke_family, name, batch=4, seed=0, length=None):
  config, _ = smoke_family(name)
  shape = SHAPES[name] if length is None else (length,) + SHAPES[name][1:]
  meta = {"class_names": ["a", "b", "c"], "input_shape": list(shape)}
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  x = np.random.default_rng(seed).normal(size=(batch,) + shape).astype(np.float32)
  # One compiled init: eager initialisation of the unrolled-looking models takes far longer.
  variables = jax.jit(lambda key, x: model.init(key, x, train=False))(jax.random.PRNGKey(seed), x)
  return (lambda x: task.predict(model.apply(variables, x, train=False))), x


def test_jax_op_is_read_from_jax2tf_tensor_names():
  assert tflm._jax_op("jit(fn_dict)/MaxCRNN/attention/div3;broadcast_in_dim") == "div (MaxCRNN/attention)"
  assert tflm._jax_op("select_n1") == "select_n"
  assert tflm._jax_op("Identity_1") == "(a graph output)"
  assert tflm._jax_op("jit(f)/jit(main)/TCN/block_0/conv_0/dot_general") == "dot_general (TCN/block_0/conv_0)"


def test_tflm_op_list_matches_the_installed_kernels():
  """Every op in TFLM_OPS has a kernel compiled into the tflite-micro wheel; ops it lacks have none."""
  runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
  library = pathlib.Path(runtime.__file__).with_name("_runtime.so")
  if not library.exists():
    pytest.skip(f"{library} not found: this tflite-micro build lays its extension out differently")
  kernels = {m.decode() for m in re.findall(rb"_ZN6tflite5micro\d+Register_([A-Z0-9_]+)Ev", library.read_bytes())}
  assert tflm.TFLM_OPS <= kernels, sorted(tflm.TFLM_OPS - kernels)
  assert not {"SELECT", "GELU", "TILE", "POW"} & kernels
  assert tflm.ESP_NN_OPTIMISED <= tflm.TFLM_OPS


def _primitives(fn, x):
  jaxpr = jax.make_jaxpr(fn)(x).jaxpr
  return list(rewrite.walk(jaxpr))


def test_micro_rules_each_rewrite_a_small_function_exactly():
  """One equation per rule, the output unchanged, and none of the equations TFLM lacks a kernel for."""
  rng = np.random.default_rng(4)
  w = rng.normal(size=(4, 3)).astype(np.float32)
  x = rng.normal(size=(1, 5, 4)).astype(np.float32)

  def fn(x_BTF):
    length = x_BTF.shape[1]
    valid_BT = jnp.ones(x_BTF.shape[:2], bool)
    x_BTF = jnp.where(valid_BT[..., None], x_BTF, 0.0)  # a constant predicate: select_folded
    x_BTF = x_BTF[:, (length - 1) - jax.lax.iota(jnp.int32, length)]  # gather_as_reverse
    h_BTH = jnp.einsum("btf,fh->bth", x_BTF, w)  # dot_with_weight_2d
    step = lambda c_BH, h_BH: (jnp.tanh(c_BH + h_BH), c_BH)
    last_BH, states_TBH = jax.lax.scan(step, jnp.zeros((1, 3)), h_BTH.swapaxes(0, 1))  # scan_unrolled
    return {"value": jnp.einsum("tbh,bh->bt", states_TBH, last_BH)}  # two run-time tensors: dot_as_mul_sum

  rewritten, counts = rewrite.rewrite(fn, jax.ShapeDtypeStruct(x.shape, jnp.float32), profile=rewrite.MICRO)
  np.testing.assert_allclose(jax.jit(rewritten)(x)["value"], fn(x)["value"], atol=1e-6)
  assert counts == {"select_folded": 1, "gather_as_reverse": 1, "dot_with_weight_2d": 1, "scan_unrolled": 1,
                    "dot_as_mul_sum": 1}
  names = {eqn.primitive.name for eqn in _primitives(rewritten, x)}
  assert not {"scan", "while", "select_n", "gather"} & names, names
  products = [eqn for eqn in _primitives(rewritten, x) if eqn.primitive.name == "dot_general"]
  assert len(products) == 1 and all(v.aval.ndim == 2 for v in products[0].invars)  # the weight product, 2-D


@pytest.mark.slow
def test_micro_graph_rewrite_keeps_the_maxcrnn_output_and_leaves_no_loop(smoke_family):
  fn, x = _family(smoke_family, "maxcrnn", batch=1, length=64)
  rewritten, counts = rewrite.rewrite(fn, jax.ShapeDtypeStruct(x.shape, jnp.float32), profile=rewrite.MICRO)
  got, expected = jax.jit(rewritten)(x), jax.jit(fn)(x)
  np.testing.assert_allclose(got["probs"], expected["probs"], atol=1e-6)
  names = [eqn.primitive.name for eqn in _primitives(rewritten, x)]
  for gone in ("scan", "while", "select_n", "gather"):
    assert gone not in names, gone
  assert counts["scan_unrolled"] == 2 and counts["gather_as_reverse"] == 2 and counts["select_folded"] > 0
  assert counts["dot_as_mul_sum"] == 1  # the attention pooling 'bt,bth->bh'


def test_micro_graph_stacks_long_scans_with_short_concatenations():
  model = LSTMRegressor(hidden_sizes=(3,))
  x = np.random.default_rng(1).normal(size=(1, 23, 2)).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(1), x, train=False)
  fn = lambda x: model.apply(variables, x, train=False)
  rewritten, counts = rewrite.rewrite(fn, jax.ShapeDtypeStruct(x.shape, jnp.float32), profile=rewrite.MICRO)
  np.testing.assert_allclose(jax.jit(rewritten)(x), jax.jit(fn)(x), atol=1e-6)
  fan_in = [len(eqn.invars) for eqn in _primitives(rewritten, x) if eqn.primitive.name == "concatenate"]
  assert fan_in and max(fan_in) <= rewrite.CONCAT_FAN_IN < rewrite.TFLM_MAX_CONCAT_INPUTS
  # Unmasked, the recurrence has no selects to fold; the input projection is 2-D already
  # (research/models/lstm_recurrence.py), so the per-step head is the one 3-D product made 2-D.
  assert counts == {"scan_unrolled": 1, "dot_with_weight_2d": 1}


def test_micro_target_refuses_what_tflm_cannot_run():
  from research.export.tflite import converter as tflite
  x = np.zeros((1, 4), np.float32)
  with pytest.raises(ValueError, match="TFLite Micro has no kernels for quantize=.float16."):
    tflite.convert(lambda x: x, x, quantize="float16", target="micro")
  with pytest.raises(ValueError, match="fixed batch of 1"):
    tflite.convert(lambda x: x, x, dynamic_batch=True, target="micro")
  with pytest.raises(ValueError, match="target='phone' is not a target"):
    tflite.convert(lambda x: x, x, target="phone")


@pytest.mark.export
@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(SHAPES))
def test_every_family_runs_under_tflm_with_the_micro_profile(family, smoke_family):
  """fp32 within 1e-5 of JAX under the TFLM interpreter; int8 (int8 input/output) close."""
  _needs_tflm()
  from research.export.tflite import converter as tflite
  fn, x = _family(smoke_family, family)
  reference = jax.device_get(fn(x))
  kinds = {key: OUTPUTS[key][0] for key in reference}
  for mode in ("none", "int8"):
    exported = tflite.convert(fn, x, quantize=mode, representative=x, int8_io=mode == "int8",
                              target="micro", where=family)
    summary = exported.summary()
    report = tflm.ops_report(exported.model)
    assert not report["missing"] and set(exported.ops) <= tflm.TFLM_OPS
    assert {"WHILE", "BATCH_MATMUL", "SELECT", "GATHER_ND"}.isdisjoint(exported.ops), exported.ops
    got = tflm.run(exported.model, summary, x, arena_size=tflm.GENEROUS_ARENA)
    compared = parity.compare(reference, got, kinds)
    if mode == "none":
      assert continuous_max_abs_diff(compared) <= parity.FP32_TOLERANCE, compared
    else:
      assert summary["input"]["dtype"] == "int8" and summary["dense_per_channel"] is False
      assert all(row["max_abs_diff"] < 0.1 for row in compared.values()), compared


@pytest.mark.export
def test_tflm_refusals_name_the_jax_op_and_the_reason():
  _needs_tflm()
  from research.export.tflite import converter as tflite
  x = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)
  leaky = lambda x: {"value": 2.0 * jnp.where(x > 0, x, 0.1 * x)}  # select_n -> SELECT, which TFLM lacks
  exported = tflite.convert(leaky, x)
  row = tflm.check(exported.model, exported.summary(), x, jax.device_get(leaky(x)), {"value": "value"})
  assert row["runs"] is False and row["ops"]["missing"] == {"SELECT": ["select_n"]}
  # The micro profile writes it as two SELECT_V2, which TFLM runs exactly.
  exported = tflite.convert(leaky, x, target="micro")
  assert exported.ops.get("SELECT_V2") == 2 and "SELECT" not in exported.ops
  np.testing.assert_array_equal(tflm.run(exported.model, exported.summary(), x, tflm.GENEROUS_ARENA)["value"],
                                leaky(x)["value"])
  with pytest.raises(tflm.MicroUnsupportedOpsError, match=r"SIGN from sign.*jnp\.sign"):
    tflite.convert(lambda x: {"value": 2.0 * jnp.sign(x)}, x, target="micro")
  # The LiteRT profile's int8 LSTM stacks 12 steps in one CONCATENATION; TFLM takes at most 10.
  model = LSTMRegressor(hidden_sizes=(3,))
  xs = np.random.default_rng(1).normal(size=(8, 12, 2)).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(1), xs, train=False)
  lstm = lambda x: {"value": model.apply(variables, x, train=False)}
  exported = tflite.convert(lstm, xs, quantize="int8", representative=xs)
  row = tflm.check(exported.model, exported.summary(), xs, jax.device_get(lstm(xs)), {"value": "value"})
  assert row["runs"] is False and "kMaxInputNum" in row["reason"], row["reason"]


@pytest.mark.export
def test_arena_search_finds_the_smallest_working_arena(conv_net):
  _needs_tflm()
  from research.export.tflite import converter as tflite
  model = conv_net
  x = np.random.default_rng(2).normal(size=(4, 20, 2)).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(2), x, train=False)
  exported = tflite.convert(lambda x: {"probs": jax.nn.softmax(model.apply(variables, x, train=False))}, x)
  summary = exported.summary()
  arena = tflm.search_arena(exported.model, summary, x[0])["arena_bytes"]
  assert arena % tflm.ARENA_GRANULARITY == 0
  assert tflm.arena_works(exported.model, summary, x[0], arena)
  assert not tflm.arena_works(exported.model, summary, x[0], arena - tflm.ARENA_GRANULARITY)
  # Activations alone (20 frames x 16 channels, float32) need more than this much.
  assert arena > 20 * 16 * 4


@pytest.mark.export
def test_export_records_tflm_arena_and_parity_per_mode(tmp_path, conv_net):
  _needs_tflm()
  from research.data.dataset import Dataset
  model = conv_net
  rng = np.random.default_rng(3)
  y = np.arange(48) % 3
  x = (rng.normal(size=(48, 20, 2)) + y[:, None, None]).astype(np.float32)
  variables = model.init(jax.random.PRNGKey(3), x, train=False)
  fn = lambda x: {"probs": jax.nn.softmax(model.apply(variables, x, train=False), -1)}
  split = {"x": x, "y": y}
  dataset = Dataset(train=split, val=split, test=split, meta={"class_names": ["a", "b", "c"]})
  exportable = Exportable(fn=fn, variables=variables, meta=dataset.meta, config=None, notes=[])
  result = export_exportable(exportable, dataset, tmp_path, modes=("none", "int8"), int8_io=True,
                             target="micro", parity_examples=16, latency_repeats=2)
  fp32, int8 = result["exports"]
  assert result["target"] == "micro" and fp32["target"] == "micro"
  assert fp32["tflm"]["runs"] and fp32["tflm"]["fp32_within_tolerance"], fp32["tflm"]
  assert int8["tflm"]["runs"] and int8["tflm"]["parity"]["probs"]["agreement"] >= 0.8, int8["tflm"]
  assert 0 < int8["tflm"]["arena_bytes"] <= fp32["tflm"]["arena_bytes"]  # int8 activations are 4x smaller
  assert "accuracy_change" in int8["tflm"]["parity"]["probs"]
  written = json.loads((tmp_path / "export.json").read_text())
  assert written["exports"][1]["tflm"]["arena_bytes"] == int8["tflm"]["arena_bytes"]
  assert f"{int8['tflm']['arena_bytes']:,}" in pipeline.table(result)

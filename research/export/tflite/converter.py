"""JAX function -> .tflite bytes through jax2tf, built-in TFLite ops only.

Route: fn(x) with parameters closed over -> `jax2tf.convert` -> `tf.function` with a
fixed input signature -> `TFLiteConverter.from_concrete_functions`, supported ops
TFLITE_BUILTINS (int8: TFLITE_BUILTINS_INT8), then the op list is checked again.

Quantization modes:
  none     float32 weights and arithmetic
  dynamic  int8 weights, float activations (dynamic-range; tensors under 1024
           elements stay float, as the converter decides)
  float16  float16 weights, dequantized to float32 at load
  int8     full-integer weights and activations, calibrated on a representative set
           (examples from the training split); optional int8 input/output tensors
           for microcontroller runtimes. Scans are unrolled first (rewrite.py, profile unroll).

Targets:
  litert   phones and desktops (LiteRT): the function as written
  micro    TFLite Micro on microcontrollers: the graph rewritten by rewrite.py's micro
           profile (scans unrolled into short concatenation trees, constant selects
           folded, attention products as FULLY_CONNECTED), fixed batch of 1,
           float32 or full-integer int8 only, int8 dense weights quantized per
           tensor (halves the arena of unrolled LSTMs); every op is checked
           against the kernels TFLM registers (tflm.check_ops)
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable

import jax
import numpy as np

from research.export import rewrite as rewrite_lib
from research.export.tflite import ops as ops_lib

QUANTIZE_MODES = ("none", "dynamic", "float16", "int8")
TARGETS = ("litert", "micro")
MICRO_MODES = ("none", "int8")  # TFLM has no hybrid (dynamic-range) or float16-weight kernels
INPUT_NAME = "x"


@dataclasses.dataclass
class Exported:
  """A converted model and what a caller needs to feed it and read it."""
  model: bytes
  quantize: str
  input: dict[str, Any]  # name, shape (-1 = any batch), dtype, scale, zero_point
  outputs: dict[str, dict[str, Any]]  # key of fn's output -> tensor name, shape, dtype, scale, zero_point
  ops: dict[str, int]
  unrolled: bool
  convert_seconds: float
  target: str = "litert"
  rewrites: dict[str, int] = dataclasses.field(default_factory=dict)  # rewrite.py rules applied
  dense_per_channel: bool = True  # int8 FULLY_CONNECTED weight scales per output channel

  def summary(self) -> dict[str, Any]:
    summary = {"quantize": self.quantize, "target": self.target, "input": self.input, "outputs": self.outputs,
               "ops": self.ops, "scans_unrolled": self.unrolled, "tflite_bytes": len(self.model),
               "convert_seconds": round(self.convert_seconds, 2)}
    if self.target == "micro":
      summary["rewrites"] = dict(self.rewrites)
    if self.quantize == "int8":
      summary["dense_per_channel"] = self.dense_per_channel
    return summary


def _tensorflow():
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import tensorflow as tf
  from jax.experimental import jax2tf
  return tf, jax2tf


def _as_dict(outputs) -> dict[str, Any]:
  if isinstance(outputs, dict):
    return dict(outputs)
  return {"output": outputs}


def _tensor_details(detail: dict) -> dict[str, Any]:
  scale, zero_point = detail["quantization"]
  return {"tensor": detail["name"], "shape": [int(d) for d in detail["shape_signature"]],
          "dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero_point)}


def convert(fn: Callable, example_x: np.ndarray, *, quantize: str = "none",
            representative: np.ndarray | None = None, int8_io: bool = False,
            dynamic_batch: bool = False, unroll: bool | None = None,
            where: str = "the model", target: str = "litert",
            dense_per_channel: bool | None = None) -> Exported:
  """Converts `fn(x_B...) -> array | {name: array}` to TFLite.

  example_x: examples shaped like the input (only the shape after the first axis
  is used); the exported input is (1, ...) or, with dynamic_batch, (None, ...).
  representative: float32 examples for int8 calibration, fed one at a time.
  unroll: unroll scans before conversion; default only for int8 (always for micro).
  target: litert | micro (see the module docstring); micro refuses ops TFLM lacks.
  dense_per_channel: int8 FULLY_CONNECTED weights with one scale per output channel
  (default) or one per tensor (default for micro: TFLM keeps every per-channel
  multiplier in the arena once per op, which unrolled recurrences repeat per step).
  """
  if target not in TARGETS:
    raise ValueError(f"target={target!r} is not a target; choose one of {TARGETS}")
  if target == "micro" and quantize not in MICRO_MODES:
    raise ValueError(f"target='micro' exports {MICRO_MODES} only: TFLite Micro has no kernels for "
                     f"quantize={quantize!r} (hybrid int8-weight or float16-weight ops); use int8 or none.")
  if target == "micro" and dynamic_batch:
    raise ValueError("target='micro' exports a fixed batch of 1 (TFLite Micro cannot resize inputs): "
                     "drop dynamic_batch.")
  if quantize not in QUANTIZE_MODES:
    raise ValueError(f"quantize={quantize!r} is not a mode; choose one of {QUANTIZE_MODES}")
  if quantize == "int8" and (representative is None or len(representative) == 0):
    raise ValueError("quantize='int8' needs representative examples (from the training split) "
                     "to calibrate activation ranges; pass representative=x_train[:N].")
  if quantize == "int8" and dynamic_batch:
    raise ValueError("quantize='int8' exports a fixed batch of 1 (microcontroller runtimes; the "
                     "int8 model with a symbolic batch fails to prepare in XNNPACK): drop dynamic_batch.")
  if int8_io and quantize != "int8":
    raise ValueError(f"int8 input/output needs quantize='int8'; found quantize={quantize!r}")
  tf, jax2tf = _tensorflow()
  started = time.perf_counter()
  feature_shape = tuple(int(d) for d in np.shape(example_x)[1:])
  unroll = quantize == "int8" if unroll is None else unroll
  if dense_per_channel is None:
    dense_per_channel = target != "micro"

  def fn_dict(x):
    return _as_dict(fn(x))

  if dynamic_batch:
    dims = ", ".join(["b"] + [str(d) for d in feature_shape])
    polymorphic = [f"({dims})"]
    spec = jax.ShapeDtypeStruct(jax.export.symbolic_shape(dims), np.float32)
    tf_shape = (None,) + feature_shape
  else:
    polymorphic = None
    spec = jax.ShapeDtypeStruct((1,) + feature_shape, np.float32)
    tf_shape = (1,) + feature_shape

  def to_tflite(body):
    tf_fn = tf.function(jax2tf.convert(body, with_gradient=False, polymorphic_shapes=polymorphic),
                        input_signature=[tf.TensorSpec(tf_shape, tf.float32, name=INPUT_NAME)],
                        autograph=False)
    concrete = tf_fn.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], tf_fn)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize in ("dynamic", "float16", "int8"):
      converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
      converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
      calibration = np.asarray(representative, np.float32)
      converter.representative_dataset = lambda: ([calibration[i:i + 1]] for i in range(len(calibration)))
      converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
      # The converter's switch is experimental (TF 2.21); convolutions stay per channel.
      converter._experimental_disable_per_channel_quantization_for_dense_layers = not dense_per_channel
      if int8_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    try:
      return converter.convert(), concrete
    except Exception as error:  # ConverterError; its text names the ops that failed.
      if type(error).__name__ == "ConverterError":
        details = [str(error)] + [getattr(e, "error_message", "") for e in getattr(error, "errors", [])]
        raise ops_lib.explain_converter_error("\n".join(details), where,
                                              rewrite_lib.primitives(fn_dict, spec)) from None
      raise

  rewrites: dict[str, int] = {}
  if target == "micro":
    unrolled = rewrite_lib.count_scans(fn_dict, spec) > 0
    body, rewrites = rewrite_lib.rewrite(fn_dict, spec, profile=rewrite_lib.MICRO)
    model, concrete = to_tflite(body)
    if "SELECT" in ops_lib.op_counts(model):
      # Only now: the converter fuses many selects (LEAKY_RELU, ...) better than SELECT_V2 pairs.
      body, rewrites = rewrite_lib.rewrite(fn_dict, spec, profile=rewrite_lib.MICRO, selects_as_select_v2=True)
      model, concrete = to_tflite(body)
  else:
    unrolled = bool(unroll) and rewrite_lib.count_scans(fn_dict, spec) > 0
    if unrolled:
      body, rewrites = rewrite_lib.rewrite(fn_dict, spec, profile=rewrite_lib.UNROLL)
    model, concrete = to_tflite(body if unrolled else fn_dict)
  op_counts = ops_lib.check_builtin_only(model, where)
  if target == "micro":
    from research.export import tflm
    tflm.check_ops(model, where)

  from ai_edge_litert.interpreter import Interpreter
  interpreter = Interpreter(model_content=model)
  (input_detail,) = interpreter.get_input_details()
  by_tensor = {d["name"]: d for d in interpreter.get_output_details()}
  structured = concrete.structured_outputs
  outputs = {}
  for key in sorted(structured):
    name = structured[key].name.split(":")[0]
    if name not in by_tensor:
      raise RuntimeError(f"Output {key!r} of {where} (TF tensor {name}) is not among the TFLite "
                         f"outputs {sorted(by_tensor)}; the converter renamed it.")
    outputs[key] = _tensor_details(by_tensor[name])
  return Exported(model=model, quantize=quantize, input={"name": INPUT_NAME, **_tensor_details(input_detail)},
                  outputs=outputs, ops=op_counts, unrolled=unrolled,
                  convert_seconds=time.perf_counter() - started, target=target, rewrites=dict(rewrites),
                  dense_per_channel=bool(dense_per_channel))

"""Runs a .tflite with ai-edge-litert and compares it with the JAX model.

Measured per output: max and mean absolute difference (fp32 target <= 1e-5),
agreement of the decisions (argmax over classes, threshold 0.5 for per-frame
probabilities) and, given targets, the change in accuracy (or MSE for values).
Latency: median wall time of one single-example `invoke` on this CPU, one thread.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

FP32_TOLERANCE = 1e-5


def interpreter(model: bytes):
  from ai_edge_litert.interpreter import Interpreter
  return Interpreter(model_content=model, num_threads=1)


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
  if detail["dtype"] != "int8":
    return x.astype(detail["dtype"])
  q = np.round(x / detail["scale"] + detail["zero_point"])
  return np.clip(q, -128, 127).astype(np.int8)


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
  if detail["dtype"] == "int8":
    return ((y.astype(np.float32) - detail["zero_point"]) * detail["scale"]).astype(np.float32)
  return y.astype(np.float32)


def run(model: bytes, signature: dict[str, Any], x: np.ndarray, batch_size: int = 64) -> dict[str, np.ndarray]:
  """Outputs of the .tflite for every example of `x`, dequantized to float32.

  signature: {'input': ..., 'outputs': ...} as in `tflite.Exported.summary()`.
  A fixed-batch model is invoked once per example; a dynamic one per chunk.
  """
  x = np.asarray(x, np.float32)
  it = interpreter(model)
  inp = signature["input"]
  index = it.get_input_details()[0]["index"]
  by_name = {d["name"]: d["index"] for d in it.get_output_details()}
  step = batch_size if inp["shape"][0] == -1 else inp["shape"][0]
  allocated = None
  results: dict[str, list] = {key: [] for key in signature["outputs"]}
  for start in range(0, len(x), step):
    chunk = x[start:start + step]
    if len(chunk) != allocated:
      if inp["shape"][0] == -1:
        it.resize_tensor_input(index, [len(chunk)] + list(inp["shape"][1:]))
      it.allocate_tensors()
      allocated = len(chunk)
    it.set_tensor(index, _quantize(chunk, inp))
    it.invoke()
    for key, out in signature["outputs"].items():
      results[key].append(_dequantize(it.get_tensor(by_name[out["tensor"]]), out))
  return {key: np.concatenate(parts) for key, parts in results.items()}


def latency_per_example(model: bytes, signature: dict[str, Any], x_one: np.ndarray,
                        repeats: int = 30, warmup: int = 3) -> float:
  """Median seconds of one invoke on one example (batch 1), single-threaded."""
  it = interpreter(model)
  inp = signature["input"]
  index = it.get_input_details()[0]["index"]
  if inp["shape"][0] == -1:
    it.resize_tensor_input(index, [1] + list(inp["shape"][1:]))
  it.allocate_tensors()
  it.set_tensor(index, _quantize(np.asarray(x_one, np.float32).reshape([1] + list(inp["shape"][1:])), inp))
  for _ in range(warmup):
    it.invoke()
  times = []
  for _ in range(repeats):
    started = time.perf_counter()
    it.invoke()
    times.append(time.perf_counter() - started)
  return float(np.median(times))


def _decision(kind: str, values: np.ndarray) -> np.ndarray:
  if kind == "classes":
    return np.argmax(values, axis=-1)
  if kind == "binary":
    return values > 0.5
  raise ValueError(f"No decision for output kind {kind!r}")


def compare(reference: dict[str, np.ndarray], exported: dict[str, np.ndarray],
            kinds: dict[str, str], targets: dict[str, np.ndarray] | None = None) -> dict[str, dict]:
  """Per output: max/mean abs diff; decision agreement and score change where the kind allows.

  reference: JAX outputs; exported: TFLite outputs; kinds: output -> classes |
  binary | value; targets: output -> labels (class ids, 0/1 frames or values).
  """
  targets = targets or {}
  report = {}
  for key, ref in reference.items():
    ref = np.asarray(ref, np.float32)
    got = np.asarray(exported[key], np.float32)
    if ref.shape != got.shape:
      raise ValueError(f"Output {key!r}: JAX shape {ref.shape} but TFLite shape {got.shape}")
    diff = np.abs(ref - got)
    row = {"max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()), "kind": kinds[key]}
    target = targets.get(key)
    if kinds[key] in ("classes", "binary"):
      ref_d, got_d = _decision(kinds[key], ref), _decision(kinds[key], got)
      row["agreement"] = float(np.mean(ref_d == got_d))
      if target is not None:
        target = np.asarray(target).reshape(ref_d.shape)
        if kinds[key] == "binary":
          target = target >= 0.5  # Soft frame targets count as positive from 0.5.
        row["accuracy_jax"] = float(np.mean(ref_d == target))
        row["accuracy_tflite"] = float(np.mean(got_d == target))
        row["accuracy_change"] = row["accuracy_tflite"] - row["accuracy_jax"]
    elif target is not None:
      target = np.asarray(target, np.float32).reshape(ref.shape)
      row["mse_jax"] = float(np.mean((ref - target) ** 2))
      row["mse_tflite"] = float(np.mean((got - target) ** 2))
      row["mse_change"] = row["mse_tflite"] - row["mse_jax"]
    report[key] = row
  return report


def param_bytes(variables: Any) -> int:
  """Bytes of every array in a variables pytree at its stored dtype."""
  import jax
  return int(sum(np.asarray(leaf).nbytes for leaf in jax.tree_util.tree_leaves(variables)))

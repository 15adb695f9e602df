"""TFLite Micro: the ops it registers, a .tflite run under its interpreter, the smallest arena.

The interpreter is TFLM itself as the `tflite-micro` wheel builds it (its Python
binding, `tflite_micro.python.tflite_micro.runtime`, over the C++ MicroInterpreter
with every builtin kernel registered, reference kernels on x86). Parity is the
same measure as for LiteRT (parity.compare): float32 within parity.FP32_TOLERANCE
of JAX, int8 decisions agreement and accuracy change.

The tensor arena is found by bisection: the smallest size, in steps of
ARENA_GRANULARITY bytes, at which TFLM allocates the model and one invoke
succeeds (each try in its own process: TFLM can crash, not fail, on some sizes
too small). It is measured on x86-64 (64-bit pointers in TFLM's per-tensor and
per-node records) with the greedy memory planner a device build uses, so a 32-bit
microcontroller needs the same activation memory and somewhat less bookkeeping.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

from research.export.tflite import ops as ops_lib
from research.export.tflite import parity as parity_lib

# Builtin operators TFLM can register: the Add* methods of MicroMutableOpResolver
# (tensorflow/lite/micro/micro_mutable_op_resolver.h, tflite-micro 2026-08). An op
# outside this set cannot run on a microcontroller without writing its kernel.
TFLM_OPS = frozenset("""
ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL BATCH_TO_SPACE_ND
BROADCAST_ARGS BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION CONV_2D COS CUMSUM DEPTHWISE_CONV_2D
DEPTH_TO_SPACE DEQUANTIZE DIV DYNAMIC_UPDATE_SLICE ELU EMBEDDING_LOOKUP EQUAL EXP EXPAND_DIMS FILL
FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER GATHER_ND GREATER GREATER_EQUAL HARD_SWISH IF
L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS LESS_EQUAL LOG LOGICAL_AND LOGICAL_NOT LOGICAL_OR
LOGISTIC LOG_SOFTMAX MAXIMUM MAX_POOL_2D MEAN MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK PAD PADV2
PRELU QUANTIZE READ_VARIABLE REDUCE_ALL REDUCE_MAX REDUCE_MIN RELU RELU6 RESHAPE RESIZE_BILINEAR
RESIZE_NEAREST_NEIGHBOR REVERSE_V2 ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX SPACE_TO_BATCH_ND
SPACE_TO_DEPTH SPLIT SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE SQUEEZE STRIDED_SLICE SUB SUM SVDF TANH
TRANSPOSE TRANSPOSE_CONV UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE ZEROS_LIKE
""".split())

# Ops with an ESP-NN optimised kernel on the ESP32 (esp-tflite-micro); every other op
# runs TFLM's portable reference kernel there (WHILE, BATCH_MATMUL, LSTM, ...).
ESP_NN_OPTIMISED = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL",
                              "AVERAGE_POOL_2D", "MAX_POOL_2D", "SOFTMAX"})

ARENA_GRANULARITY = 16  # bytes; TFLM aligns every arena buffer to 16 bytes
GENEROUS_ARENA = 16 << 20  # bytes; a model that fails with max(this, 20 x its size) does not fit

# The JAX code behind TFLite ops that TFLM lacks, for the refusal message.
_JAX_HINTS = {
    "SELECT": "jnp.where / lax.select (select_n) with operands of the predicate's shape: export "
              "with --target micro (it rewrites them as SELECT_V2)",
    "GELU": "jax.nn.gelu: use relu, or write the tanh approximation with tanh/mul/add",
    "POW": "x ** y with a non-integer or traced exponent",
    "RANGE": "jnp.arange with a traced length",
    "TILE": "jnp.tile / jnp.repeat",
    "REDUCE_PROD": "jnp.prod",
    "SIGN": "jnp.sign: write it as (x > 0) - (x < 0) cast to float",
    "TOPK_V2": "lax.top_k",
}


class MicroUnsupportedOpsError(ops_lib.UnsupportedOpsError):
  """The model needs operators TFLite Micro does not register."""


def available() -> bool:
  try:
    from tflite_micro.python.tflite_micro import runtime  # noqa: F401
  except ImportError:
    return False
  return True


def _jax_op(tensor_name: str) -> str:
  """'jit(fn)/MaxCRNN/attention/div3;broadcast_in_dim' -> 'div (MaxCRNN/attention)'.

  Tensors jax2tf does not name after a JAX op (the graph's outputs are 'Identity', ...)
  give '(a graph output)'.
  """
  first = tensor_name.split(";")[0]
  if re.fullmatch(r"Identity(_\d+)?|StatefulPartitionedCall(:\d+)?", first):
    return "(a graph output)"
  parts = [p for p in first.split("/") if not p.startswith("jit(")]
  if not parts:
    return tensor_name
  primitive = re.sub(r"\d+$", "", parts[-1])
  scope = "/".join(parts[:-1])
  return f"{primitive} ({scope})" if scope else primitive


def op_sources(model: bytes, op_names) -> dict[str, list[str]]:
  """{TFLite op: sorted JAX ops (from the output tensor names jax2tf gives) that produced it}."""
  schema = ops_lib._schema()
  names = ops_lib._builtin_names(schema)
  wanted = set(op_names)
  root = schema.Model.GetRootAs(bytearray(model), 0)
  found: dict[str, set] = {name: set() for name in wanted}
  for s in range(root.SubgraphsLength()):
    subgraph = root.Subgraphs(s)
    for o in range(subgraph.OperatorsLength()):
      op = subgraph.Operators(o)
      code = root.OperatorCodes(op.OpcodeIndex())
      name = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
      if name in wanted:
        for i in range(op.OutputsLength()):
          found[name].add(_jax_op(subgraph.Tensors(op.Outputs(i)).Name().decode()))
  return {name: sorted(sources) for name, sources in found.items()}


def missing_ops(model: bytes) -> dict[str, list[str]]:
  """{op TFLM does not register: JAX ops that produced it}; Flex/custom ops count as missing."""
  counts = ops_lib.op_counts(model)
  return op_sources(model, [op for op in counts if op not in TFLM_OPS])


def ops_report(model: bytes) -> dict[str, Any]:
  """Op counts checked against TFLM: missing ops (with their JAX ops), reference-kernel ops on ESP32."""
  counts = ops_lib.op_counts(model)
  return {"ops": counts, "missing": missing_ops(model),
          "esp_nn_optimised": sorted(op for op in counts if op in ESP_NN_OPTIMISED),
          "reference_kernels_on_esp32": sorted(op for op in counts if op in TFLM_OPS and op not in ESP_NN_OPTIMISED)}


def check_ops(model: bytes, where: str = "the exported model") -> dict[str, int]:
  """Returns the op counts; raises MicroUnsupportedOpsError naming the JAX ops behind any op TFLM lacks."""
  missing = missing_ops(model)
  if missing:
    described = "; ".join(f"{op} from {', '.join(sources) or '(unnamed)'}" for op, sources in sorted(missing.items()))
    hints = "; ".join(f"{op}: {_JAX_HINTS[op]}" for op in sorted(missing) if op in _JAX_HINTS)
    raise MicroUnsupportedOpsError(
        f"{where} contains operators TFLite Micro does not register: {described}. A microcontroller "
        f"cannot run them without a hand-written kernel; rewrite the JAX code that produces them"
        + (f" ({hints})." if hints else "."))
  return ops_lib.op_counts(model)


def _interpreter(model: bytes, arena_size: int):
  from tflite_micro.python.tflite_micro import runtime
  return runtime.Interpreter.from_bytes(model, arena_size=int(arena_size))


def _output_order(model: bytes, signature: dict[str, Any]) -> list[str]:
  """Keys of signature['outputs'] in the order of the model's output tensors (TFLM's indices)."""
  schema = ops_lib._schema()
  subgraph = schema.Model.GetRootAs(bytearray(model), 0).Subgraphs(0)
  tensor_names = [subgraph.Tensors(subgraph.Outputs(i)).Name().decode() for i in range(subgraph.OutputsLength())]
  by_tensor = {out["tensor"]: key for key, out in signature["outputs"].items()}
  missing = [name for name in tensor_names if name not in by_tensor]
  if missing:
    raise ValueError(f"Output tensors {missing} of the model are not in the signature's outputs "
                     f"{sorted(by_tensor)}; pass the summary() of this model's Exported.")
  return [by_tensor[name] for name in tensor_names]


def _example_input(signature: dict[str, Any], x_one: np.ndarray) -> np.ndarray:
  shape = [1] + [int(d) for d in signature["input"]["shape"][1:]]
  return parity_lib._quantize(np.asarray(x_one, np.float32).reshape(shape), signature["input"])


def run(model: bytes, signature: dict[str, Any], x: np.ndarray, arena_size: int) -> dict[str, np.ndarray]:
  """TFLM outputs for every example of `x` (one invoke each, batch 1), dequantized to float32.

  Use an arena that `search_arena` found to work: TFLM may crash on one too small.
  """
  order = _output_order(model, signature)
  interpreter = _interpreter(model, arena_size)
  results: dict[str, list] = {key: [] for key in order}
  for example in np.asarray(x, np.float32):
    interpreter.set_input(_example_input(signature, example), 0)
    interpreter.invoke()
    for index, key in enumerate(order):
      results[key].append(parity_lib._dequantize(np.asarray(interpreter.get_output(index)),
                                                 signature["outputs"][key]))
  return {key: np.concatenate(parts) for key, parts in results.items()}


def _probe(model: bytes, x_q: np.ndarray, arena_size: int, log: str | None = None,
           timeout: float = 300.0) -> bool:
  """Whether TFLM allocates and invokes the model in `arena_size` bytes, tried in a forked child.

  TFLM does not always fail cleanly when the arena is too small: some sizes end in a
  segmentation fault inside a kernel's preparation, so each try gets its own process.
  log: a file for what TFLM prints (its reasons); None discards it.
  """
  pid = os.fork()
  if pid == 0:  # The child: TFLM only, its printing to `log`.
    code = 1
    try:
      sink = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
      os.dup2(sink, 1)
      os.dup2(sink, 2)
      interpreter = _interpreter(model, arena_size)
      interpreter.set_input(x_q, 0)
      interpreter.invoke()
      code = 0
    except BaseException as error:  # Python-level errors go to the log as well.
      os.write(2, f"{error}\n".encode())
    finally:
      os._exit(code)
  deadline = time.monotonic() + timeout
  while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
      return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    if time.monotonic() > deadline:
      os.kill(pid, signal.SIGKILL)
      os.waitpid(pid, 0)
      raise RuntimeError(f"TFLM did not finish one invoke with a {arena_size}-byte arena in {timeout:.0f} s")
    time.sleep(0.002)


def _search(model: bytes, x_q: np.ndarray, start: int) -> dict[str, Any]:
  """{'arena_bytes': n} or {'error': what TFLM printed with a generous arena}."""
  generous = max(GENEROUS_ARENA, 20 * len(model))
  with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
    if not _probe(model, x_q, generous, log=log.name):
      printed = " ".join(line.strip() for line in open(log.name).read().splitlines() if line.strip())
      return {"error": f"with a {generous}-byte arena: {printed or 'no message (crashed)'}"}
  step = ARENA_GRANULARITY
  high = max(min(start, generous), 4096) // step * step
  while not _probe(model, x_q, high):
    high = min(high * 2, generous)
  low = 0  # Fails: no arena at all.
  while high - low > step:
    middle = (low + high) // 2 // step * step
    if middle <= low:
      break
    if _probe(model, x_q, middle):
      high = middle
    else:
      low = middle
  return {"arena_bytes": high}


def _in_fresh_process(model: bytes, x_q: np.ndarray, command: list[str]) -> dict[str, Any]:
  """Runs this module's __main__ on the model and input in a fresh Python process (numpy + TFLM)."""
  with tempfile.TemporaryDirectory() as folder:
    model_path, x_path = os.path.join(folder, "model.tflite"), os.path.join(folder, "x.npy")
    with open(model_path, "wb") as f:
      f.write(model)
    np.save(x_path, x_q)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "research.export.tflm", model_path, x_path, *command],
                          capture_output=True, text=True, env=env)
  if done.returncode != 0 or not done.stdout.strip():
    raise RuntimeError(f"The TFLM check process failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
  return json.loads(done.stdout.strip().splitlines()[-1])


def search_arena(model: bytes, signature: dict[str, Any], x_one: np.ndarray, start: int | None = None) -> dict[str, Any]:
  """{'arena_bytes': the smallest working tensor arena} or {'error': why TFLM cannot run the model}.

  The smallest size, a multiple of ARENA_GRANULARITY bytes, at which TFLM allocates the
  model and invokes it on `x_one`: doubling from `start` (default: the model's size)
  until one works, then bisecting between the last failing and the first working size.
  The search runs in a fresh Python process (numpy and TFLM only) that forks one child
  per try, so nothing forks this multi-threaded process and a crashing try costs only
  its child.
  """
  return _in_fresh_process(model, _example_input(signature, x_one), ["search", str(int(start or len(model)))])


def arena_works(model: bytes, signature: dict[str, Any], x_one: np.ndarray, arena_size: int) -> bool:
  """Whether TFLM allocates and invokes the model with `arena_size` bytes (tried in a child process)."""
  return _in_fresh_process(model, _example_input(signature, x_one), ["probe", str(int(arena_size))])["works"]


def check(model: bytes, signature: dict[str, Any], x: np.ndarray, reference: dict[str, np.ndarray],
          kinds: dict[str, str], targets: dict[str, np.ndarray] | None = None,
          litert: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
  """The model under TFLM: ops against TFLM's, smallest arena, parity with JAX (and LiteRT).

  Never raises for a model TFLM cannot run: the returned dict says why ('runs': False).
  """
  report: dict[str, Any] = {"ops": ops_report(model)}
  if not available():
    return {**report, "runs": False, "reason": "tflite-micro is not installed (pip install tflite-micro)"}
  if report["ops"]["missing"]:
    return {**report, "runs": False,
            "reason": f"operators TFLM does not register: {sorted(report['ops']['missing'])}"}
  if int(signature["input"]["shape"][0]) != 1:
    return {**report, "runs": False, "reason": "symbolic batch dimension: TFLM needs a fixed batch of 1 "
                                                "(export without dynamic_batch)"}
  found = search_arena(model, signature, x[0])
  if "error" in found:
    return {**report, "runs": False, "reason": f"TFLM could not allocate or invoke the model {found['error']}"}
  got = run(model, signature, x, found["arena_bytes"])
  report.update({"runs": True, "arena_bytes": found["arena_bytes"], "arena_granularity_bytes": ARENA_GRANULARITY,
                 "parity": parity_lib.compare(reference, got, kinds, targets)})
  if litert is not None:
    report["max_abs_diff_vs_litert"] = float(max(np.abs(np.asarray(got[k]) - np.asarray(litert[k], np.float32)).max()
                                                 for k in got))
  return report


def _main(argv: list[str]) -> dict[str, Any]:
  """MODEL X.npy search START | MODEL X.npy probe SIZE -> the JSON-able answer."""
  model, x_q, command, number = open(argv[0], "rb").read(), np.load(argv[1]), argv[2], int(argv[3])
  if command == "search":
    return _search(model, x_q, number)
  if command == "probe":
    return {"works": _probe(model, x_q, number)}
  raise ValueError(f"Unknown command {command!r}; expected search or probe")


if __name__ == "__main__":  # The process behind search_arena and arena_works: prints one JSON line.
  print(json.dumps(_main(sys.argv[1:])))

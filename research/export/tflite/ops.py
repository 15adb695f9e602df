"""The operators inside a .tflite flatbuffer, and the refusal of non-builtin ones.

Ops are read from the flatbuffer itself (every subgraph, WHILE bodies included),
not from an interpreter, where XNNPACK hides the real ops behind a DELEGATE node.
A model meant for a phone or a microcontroller must use TFLite builtin ops only:
Flex (Select TF) ops need the full TensorFlow runtime, custom ops need a kernel
the app registers itself.
"""

from __future__ import annotations

import collections
import re


class UnsupportedOpsError(RuntimeError):
  """The model needs operators TFLite builtins do not provide."""


# The JAX calls behind StableHLO ops the converter cannot lower, for the message.
_JAX_HINTS = {
    "sort": "jnp.sort / jnp.argsort / jnp.median / jnp.quantile / lax.top_k",
    "top_k": "lax.top_k / jnp.argpartition",
    "fft": "jnp.fft on a non-last axis (rfft over the last axis converts)",
    "rng": "random numbers inside the exported function",
    "custom_call": "a JAX custom call (e.g. linalg decompositions)",
    "scatter": "x.at[...].set/add with data-dependent indices",
}


def _schema():
  try:
    from ai_edge_litert import schema_py_generated as schema
  except ImportError:  # Older runtimes: TensorFlow ships the same generated module.
    from tensorflow.lite.python import schema_py_generated as schema
  return schema


def _builtin_names(schema) -> dict[int, str]:
  return {value: name for name, value in vars(schema.BuiltinOperator).items()
          if not name.startswith("_") and isinstance(value, int)}


def list_ops(model: bytes) -> list[dict]:
  """One entry per operator: {'subgraph', 'op', 'custom'}; custom ops by their custom code."""
  schema = _schema()
  names = _builtin_names(schema)
  root = schema.Model.GetRootAs(bytearray(model), 0)
  codes = []
  for i in range(root.OperatorCodesLength()):
    code = root.OperatorCodes(i)
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    name = names.get(builtin, f"BUILTIN_{builtin}")
    if name == "CUSTOM":
      custom = code.CustomCode()
      codes.append((custom.decode() if isinstance(custom, bytes) else str(custom), True))
    else:
      codes.append((name, False))
  ops = []
  for s in range(root.SubgraphsLength()):
    subgraph = root.Subgraphs(s)
    for o in range(subgraph.OperatorsLength()):
      name, custom = codes[subgraph.Operators(o).OpcodeIndex()]
      ops.append({"subgraph": s, "op": name, "custom": custom})
  return ops


def _counts(ops: list[dict]) -> dict[str, int]:
  return dict(sorted(collections.Counter(op["op"] for op in ops).items()))


def op_counts(model: bytes) -> dict[str, int]:
  """{op name: count} over every subgraph, sorted by name."""
  return _counts(list_ops(model))


def non_builtin(ops: list[dict]) -> list[str]:
  """Names of the Flex (Select-TF) and custom ops among `list_ops` entries."""
  return sorted({op["op"] for op in ops if op["custom"] or op["op"].startswith("Flex")})


def check_builtin_only(model: bytes, where: str = "the exported model") -> dict[str, int]:
  """Returns the op counts; raises UnsupportedOpsError on any Flex or custom op."""
  ops = list_ops(model)
  bad = non_builtin(ops)
  if bad:
    raise UnsupportedOpsError(
        f"{where} contains operators that are not TFLite builtins: {bad} (Flex = Select-TF ops "
        "needing the full TensorFlow runtime; others are custom ops). Phones and microcontrollers "
        "run builtins only: rewrite the JAX code that produces them with builtin-friendly ops.")
  return _counts(ops)


def ops_in_converter_error(message: str) -> list[str]:
  """Operator names a TFLite converter error complains about ('vhlo.sort_v1', 'tf.Foo', ...)."""
  found = re.findall(r"'([A-Za-z_][\w.]*)' op (?:is not|is neither|is not supported|failed)", message)
  found += re.findall(r"failed to legalize operation '([\w.]+)'", message)
  found += re.findall(r"unregistered operation '([\w.]+)'", message)
  return sorted(set(found) - {"tf.XlaCallModule"})  # The wrapper of the whole JAX graph.


def jax_ops_in_converter_error(message: str) -> list[str]:
  """JAX primitives named in the error's source locations ("jit(fn)/top_k" -> "top_k")."""
  names = set()
  for path in re.findall(r'"(jit\([^"]*)"', message):
    last = path.split("/")[-1]
    match = re.fullmatch(r"(?:jit\()?([A-Za-z_]\w*)\)?", last)
    if match and "/" in path:
      names.add(match.group(1))
  return sorted(names)


def explain_converter_error(message: str, where: str, primitives=()) -> UnsupportedOpsError:
  """A short error naming the failing ops and the JAX calls that usually produce them.

  primitives: JAX primitive names of the converted function; those known to have
  no TFLite lowering (sort, top_k, ...) are named even when the converter only
  reports the opaque XlaCallModule.
  """
  ops = ops_in_converter_error(message)
  suspects = {p for p in primitives if any(key in p for key in _JAX_HINTS)}
  jax_ops = sorted(set(jax_ops_in_converter_error(message)) | suspects)
  hints = sorted({hint for op in ops + jax_ops for key, hint in _JAX_HINTS.items() if key in op.lower()})
  match = re.search(r"error: ([^\n]+)", message)
  first = match.group(1).strip() if match else message[:300]
  text = (f"TFLite conversion of {where} failed: operators {ops or '(not named by the converter)'} have no TFLite builtin "
          f"kernel and Flex/Select-TF ops are refused (built-in ops only).")
  if jax_ops:
    text += f" JAX operations at the failing locations: {jax_ops}."
  if hints:
    text += f" They usually come from: {'; '.join(hints)}. Replace that code for the exported path."
  return UnsupportedOpsError(f"{text}\nConverter said: {first}")

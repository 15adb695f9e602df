"""The one jaxpr rewriter: a function traced once, evaluated again equation by equation by rules.

The export traces the inference function to a jaxpr and walks it (`rewrite`), binding
each equation again, so the model code keeps its scans, selects and products and only
the exported graph changes. A profile chooses the rules:

  unroll   LiteRT int8: TFLite's full-integer quantizer (TensorFlow 2.21) crashes the
           process on the WHILE loop a scan becomes.
    scan          bound again with unroll=length: JAX lowers it as straight-line code.

  micro    TFLite Micro: straight-line, optimised-kernel-friendly.
    scan          unrolled here into one step per frame; the per-step outputs are stacked
                  by a tree of concatenations of at most 8 inputs (TFLM's CONCATENATION
                  takes at most 10), kept apart by an optimisation barrier so the
                  converter does not merge them back. No WHILE op (a reference kernel).
    select_n      with a predicate that is a compile-time constant the same everywhere
                  (the all-valid masks of a full window) becomes the chosen operand;
                  TFLM has no SELECT kernel (only SELECT_V2). With a run-time
                  predicate, where(p, a, b) becomes where(p, a, 0) + where(p, 0, b),
                  two SELECT_V2 (exact but for the sign of a zero); the converter asks
                  for this only when a first conversion still holds a SELECT.
    dot_general   between two run-time tensors (attention-weighted sums, attention
                  scores) becomes a broadcast MUL (ESP-NN optimised) and a SUM when the
                  broadcast product is small (MAX_MUL_SUM_ELEMENTS), instead of
                  BATCH_MATMUL (a reference kernel). A product of an activation with
                  a weight over more than two axes (the LSTM input projection
                  'btf,fg->tbg') is written as one 2-D product, which the converter
                  always makes FULLY_CONNECTED.
    gather        with constant indices that only reverse axes (the backward LSTM's
                  time reversal of a full window) becomes REVERSE_V2, not GATHER_ND.
    concatenate   of more than 10 inputs becomes the same tree of concatenations.
    calls         (jit, custom_jvp, custom_vjp, remat) are inlined, so the rules see their bodies.
    constants     values computed from literals alone (masks, index arrays) are evaluated
                  while rewriting, so a constant predicate is known; weights are left to
                  the converter.

Both profiles: a jaxpr nested in an equation no rule replaces (cond branches, while
bodies, scan bodies and calls under `unroll`) is rewritten by the same walk when it
holds a scan; every other equation is bound as it is.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core

UNROLL, MICRO = "unroll", "micro"
PROFILES = (UNROLL, MICRO)


def walk(jaxpr: core.Jaxpr) -> Iterator:
  """Every equation of `jaxpr` and of the jaxprs nested in its parameters."""
  for eqn in jaxpr.eqns:
    yield eqn
    for nested in core.jaxprs_in_params(eqn.params):
      yield from walk(nested)


def _holds_scan(jaxpr: core.Jaxpr) -> bool:
  return any(eqn.primitive.name == "scan" for eqn in walk(jaxpr))


def primitives(fn: Callable, example: Any) -> dict[str, int]:
  """{primitive name: count} of `fn` traced on `example`, nested jaxprs included."""
  counts: dict[str, int] = {}
  for eqn in walk(jax.make_jaxpr(fn)(example).jaxpr):
    counts[eqn.primitive.name] = counts.get(eqn.primitive.name, 0) + 1
  return counts


def count_scans(fn: Callable, example: Any) -> int:
  """How many scan equations `fn` traced on `example` contains, nested ones included."""
  return primitives(fn, example).get("scan", 0)


CONCAT_FAN_IN = 8  # Per concatenation in a stacking tree; TFLM's kernel allows 10.
TFLM_MAX_CONCAT_INPUTS = 10  # tensorflow/lite/micro/kernels/concatenation.cc kMaxInputNum
MAX_FOLDED_ELEMENTS = 1 << 16  # Literal-only values larger than this are left to the graph.
MAX_MUL_SUM_ELEMENTS = 1 << 14  # Larger run-time products stay BATCH_MATMUL (no arena blow-up).


def _tree_concatenate(parts: list, axis: int):
  """One concatenation of len(parts) arrays, as a tree of concatenations of <= CONCAT_FAN_IN."""
  while len(parts) > 1:
    grouped = []
    for start in range(0, len(parts), CONCAT_FAN_IN):
      group = parts[start:start + CONCAT_FAN_IN]
      grouped.append(group[0] if len(group) == 1 else
                     jax.lax.optimization_barrier(jax.lax.concatenate(group, axis)))
    parts = grouped
  return parts[0]


def _stack(parts: list):
  return _tree_concatenate([jnp.expand_dims(p, 0) for p in parts], 0)


def _dot_as_mul_sum(lhs, rhs, dimension_numbers, preferred_element_type):
  """dot_general of two run-time tensors as a broadcast MUL and a SUM over the contracted axes.

  None when the broadcast product would exceed MAX_MUL_SUM_ELEMENTS (it lives in the arena).
  """
  (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = dimension_numbers
  lhs_free = [d for d in range(lhs.ndim) if d not in lhs_contract and d not in lhs_batch]
  rhs_free = [d for d in range(rhs.ndim) if d not in rhs_contract and d not in rhs_batch]
  batch = [lhs.shape[d] for d in lhs_batch]
  m, n = [lhs.shape[d] for d in lhs_free], [rhs.shape[d] for d in rhs_free]
  k = [lhs.shape[d] for d in lhs_contract]
  if int(np.prod(batch + m + n + k, dtype=int)) > MAX_MUL_SUM_ELEMENTS:
    return None
  # (batch, M, 1, K) * (batch, 1, N, K), summed over K: dot_general's output layout.
  lhs_bmk = jnp.transpose(lhs, list(lhs_batch) + lhs_free + list(lhs_contract)).reshape(
      batch + m + [1] * len(n) + k)
  rhs_bnk = jnp.transpose(rhs, list(rhs_batch) + rhs_free + list(rhs_contract)).reshape(
      batch + [1] * len(m) + n + k)
  product = lhs_bmk.astype(preferred_element_type or lhs.dtype) * rhs_bnk.astype(preferred_element_type or rhs.dtype)
  return product.sum(axis=tuple(range(product.ndim - len(k), product.ndim)))


def _dot_with_weight_2d(lhs, weight, dimension_numbers, preferred_element_type):
  """activation x weight dot_general (no batch axes) as one (M, K) @ (K, N) product.

  A 2-D product with a constant right operand is what the converter turns into
  FULLY_CONNECTED; a 3-D one may become BATCH_MATMUL (a reference kernel).
  """
  (lhs_contract, rhs_contract), (lhs_batch, _) = dimension_numbers
  if lhs_batch:
    return None
  lhs_free = [d for d in range(lhs.ndim) if d not in lhs_contract]
  rhs_free = [d for d in range(weight.ndim) if d not in rhs_contract]
  if len(lhs_free) == 1 and lhs.ndim == 2 and list(rhs_contract) == [0] and weight.ndim == 2:
    return None  # Already (M, K) @ (K, N).
  m, n = [lhs.shape[d] for d in lhs_free], [weight.shape[d] for d in rhs_free]
  k = int(np.prod([lhs.shape[d] for d in lhs_contract], dtype=int))
  lhs_mk = jnp.transpose(lhs, lhs_free + list(lhs_contract)).reshape(int(np.prod(m, dtype=int)), k)
  weight_kn = jnp.transpose(weight, list(rhs_contract) + rhs_free).reshape(k, int(np.prod(n, dtype=int)))
  out = jax.lax.dot_general(lhs_mk, weight_kn, (((1,), (0,)), ((), ())),
                            preferred_element_type=preferred_element_type)
  return out.reshape(m + n)


def _subjaxpr(eqn) -> core.ClosedJaxpr | None:
  """The single inlined body of call-like equations (jit, custom_jvp_call, ...)."""
  if eqn.primitive.name in ("jit", "pjit", "closed_call", "core_call", "remat", "checkpoint"):
    body = eqn.params.get("jaxpr")
  elif eqn.primitive.name in ("custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr"):
    body = eqn.params.get("call_jaxpr") or eqn.params.get("fun_jaxpr")
  else:
    return None
  if isinstance(body, core.Jaxpr):
    body = core.ClosedJaxpr(body, ())
  if not isinstance(body, core.ClosedJaxpr) or len(body.jaxpr.invars) != len(eqn.invars):
    return None
  return body


def _broadcast_in_dim(x, shape, broadcast_dimensions, **_):
  expanded = [1] * len(shape)
  for axis, dim in zip(broadcast_dimensions, x.shape):
    expanded[axis] = dim
  return np.broadcast_to(x.reshape(expanded), shape)


def _iota(dtype, shape, dimension, **_):
  index = [1] * len(shape)
  index[dimension] = shape[dimension]
  return np.broadcast_to(np.arange(shape[dimension]).reshape(index), shape).astype(dtype)


# NumPy for the primitives that masks and index arrays are made of: evaluating them with
# jax would compile one small XLA program per shape (seconds for an unrolled model).
_NUMPY = {
    "broadcast_in_dim": _broadcast_in_dim,
    "convert_element_type": lambda x, new_dtype, **_: x.astype(new_dtype),
    "reshape": lambda x, new_sizes, **_: x.reshape(new_sizes),
    "squeeze": lambda x, dimensions, **_: np.squeeze(x, tuple(dimensions)),
    "transpose": lambda x, permutation, **_: np.transpose(x, permutation),
    "iota": _iota,
    "reduce_or": lambda x, axes, **_: np.any(x, axis=tuple(axes)),
    "reduce_and": lambda x, axes, **_: np.all(x, axis=tuple(axes)),
    "reduce_sum": lambda x, axes, **_: np.sum(x, axis=tuple(axes), dtype=x.dtype),
    "reduce_max": lambda x, axes, **_: np.max(x, axis=tuple(axes)),
    "reduce_min": lambda x, axes, **_: np.min(x, axis=tuple(axes)),
    "select_n": lambda which, *cases: np.choose(which.astype(np.int32), cases),
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal, "and": np.bitwise_and, "or": np.bitwise_or,
    "not": lambda x: np.logical_not(x) if x.dtype == bool else np.invert(x),
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum, "min": np.minimum,
}


# What a value in the rewritten graph is computed from: literals only (a numpy array,
# known while rewriting), weights (and literals), or the function's input.
STATIC, WEIGHT, INPUT = "static", "weight", "input"


def _combine(kinds) -> str:
  if INPUT in kinds:
    return INPUT
  return WEIGHT if WEIGHT in kinds else STATIC


class _Rewriter:
  """Evaluates a jaxpr with a profile's rules; counts what it rewrote."""

  def __init__(self, profile: str, selects_as_select_v2: bool = False):
    self.profile = profile
    self.selects_as_select_v2 = selects_as_select_v2
    self.counts: dict[str, int] = {}

  def _count(self, key: str):
    self.counts[key] = self.counts.get(key, 0) + 1

  def run(self, jaxpr: core.Jaxpr, consts, args, kinds) -> tuple[list, list[str]]:
    """(outputs, their kinds) of `jaxpr` on `args` of the given kinds: the walk."""
    env: dict[Any, tuple[Any, str]] = {}

    def read(v):
      if isinstance(v, core.Literal):
        return np.asarray(v.val, dtype=v.aval.dtype), STATIC
      return env[v]

    for var, value in zip(jaxpr.constvars, consts):
      env[var] = (value, WEIGHT)  # Closed-over arrays are parameters.
    for var, value, kind in zip(jaxpr.invars, args, kinds):
      env[var] = (value, kind)
    for eqn in jaxpr.eqns:
      read_in = [read(v) for v in eqn.invars]
      values, in_kinds = [v for v, _ in read_in], [k for _, k in read_in]
      stack = str(eqn.source_info.name_stack)  # The model's scopes name the converted tensors.
      with jax.named_scope(stack) if stack else contextlib.nullcontext():
        outs, out_kinds = self._equation(eqn, values, in_kinds)
      for var, value, kind in zip(eqn.outvars, outs, out_kinds):
        if not isinstance(var, core.DropVar):
          env[var] = (value, kind)
    results = [read(v) for v in jaxpr.outvars]
    return [value for value, _ in results], [kind for _, kind in results]

  def _equation(self, eqn, values: list, kinds: list[str]) -> tuple[list, list[str]]:
    """(outputs, kinds) of one equation: a rule's replacement, or the equation bound again."""
    params = eqn.params
    if self.profile == MICRO:
      rewritten = self._micro(eqn, values, kinds)
      if rewritten is not None:
        return rewritten
    elif eqn.primitive.name == "scan":
      self._count("scan_unrolled")
      params = {**params, "unroll": max(int(params["length"]), 1)}
    params = {key: self._nested(value) for key, value in params.items()}
    outs = _bind(eqn, values, params)
    return outs, [_combine(kinds)] * len(outs)

  def _nested(self, value):
    """A parameter with its jaxprs that hold a scan rewritten by this walk; others as they are."""
    if isinstance(value, tuple) and value and all(isinstance(v, (core.ClosedJaxpr, core.Jaxpr)) for v in value):
      return tuple(self._nested(v) for v in value)
    if isinstance(value, core.Jaxpr) and _holds_scan(value):
      closed = self._retraced(core.ClosedJaxpr(value, ()))
      if closed.consts:
        raise NotImplementedError(f"The {self.profile} rewrite of a nested open jaxpr made constants it cannot hold")
      return closed.jaxpr
    if isinstance(value, core.ClosedJaxpr) and _holds_scan(value.jaxpr):
      return self._retraced(value)
    return value

  def _retraced(self, closed: core.ClosedJaxpr) -> core.ClosedJaxpr:
    """`closed` walked with this profile's rules, traced again on its own input types."""
    avals = [jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in closed.in_avals]
    run = lambda *args: self.run(closed.jaxpr, closed.consts, list(args), [INPUT] * len(args))[0]
    traced = jax.make_jaxpr(run)(*avals)
    # The original's name and argument names: call primitives and the lowering read them.
    return core.ClosedJaxpr(traced.jaxpr.replace(debug_info=closed.jaxpr.debug_info), traced.consts)

  def _micro(self, eqn, values: list, kinds: list[str]) -> tuple[list, list[str]] | None:
    """The micro profile's replacement of the equation, or None to bind it (nested jaxprs rewritten)."""
    name = eqn.primitive.name
    body = _subjaxpr(eqn)
    if body is not None:
      return self.run(body.jaxpr, body.consts, values, kinds)
    if name == "scan":
      self._count("scan_unrolled")
      return self._scan_by_steps(eqn.params, values, kinds)
    if _combine(kinds) == STATIC and not any(True for _ in core.jaxprs_in_params(eqn.params)):
      size = sum(int(np.prod(v.aval.shape, dtype=int)) for v in eqn.outvars)
      if size <= MAX_FOLDED_ELEMENTS:
        if name in _NUMPY:
          outs = [_NUMPY[name](*values, **eqn.params)]
        else:
          with core.take_current_trace():  # Evaluates eagerly, outside the trace being built.
            outs = _bind(eqn, values, eqn.params)
        outs = [np.asarray(v, dtype=var.aval.dtype) for v, var in zip(outs, eqn.outvars)]
        return outs, [STATIC] * len(outs)
    return self._micro_rule(eqn, name, values, kinds)

  def _micro_rule(self, eqn, name: str, values: list, kinds: list[str]):
    """The rewritten equation's ([outputs], [kinds]), or None to bind it as it is."""
    dtype = eqn.outvars[0].aval.dtype if eqn.outvars else None
    if name == "select_n" and kinds[0] == STATIC and isinstance(values[0], np.ndarray):
      predicate = values[0]
      if predicate.size and np.all(predicate == predicate.flat[0]):
        self._count("select_folded")
        case = 1 + int(predicate.flat[0])
        chosen, kind = values[case], kinds[case]
        shape = tuple(eqn.outvars[0].aval.shape)
        if np.shape(chosen) != shape:
          chosen = np.broadcast_to(chosen, shape).copy() if kind == STATIC else jnp.broadcast_to(chosen, shape)
        return [chosen], [kind]
    if name == "select_n" and kinds[0] == INPUT and len(values) == 3 and self.selects_as_select_v2:
      # A run-time predicate with operands of its own shape becomes SELECT, which TFLM
      # lacks; with one operand a scalar zero the converter emits SELECT_V2.
      self._count("select_as_select_v2")
      predicate, if_false, if_true = values
      zero = np.zeros((), eqn.outvars[0].aval.dtype)
      out = jnp.where(predicate, if_true, zero) + jnp.where(predicate, zero, if_false)
      return [out], [INPUT]
    if name == "dot_general" and kinds == [INPUT, INPUT]:
      out = _dot_as_mul_sum(values[0], values[1], eqn.params["dimension_numbers"],
                            eqn.params.get("preferred_element_type"))
      if out is not None:
        self._count("dot_as_mul_sum")
        return [out.astype(dtype)], [INPUT]
    if name == "dot_general" and kinds == [INPUT, WEIGHT]:
      out = _dot_with_weight_2d(values[0], values[1], eqn.params["dimension_numbers"],
                                eqn.params.get("preferred_element_type"))
      if out is not None:
        self._count("dot_with_weight_2d")
        return [out.astype(dtype)], [INPUT]
    if name == "gather" and kinds[1] == STATIC and isinstance(values[1], np.ndarray):
      axes = _gather_as_reverse(eqn, values)
      if axes is not None:
        self._count("gather_as_reverse")
        return [jax.lax.rev(values[0], axes) if axes else values[0]], [kinds[0]]
    if name == "concatenate" and len(values) > TFLM_MAX_CONCAT_INPUTS:
      self._count("concatenate_tree")
      return [_tree_concatenate(list(values), eqn.params["dimension"])], [_combine(kinds)]
    return None

  def _scan_by_steps(self, params, values: list, kinds: list[str]) -> tuple[list, list[str]]:
    body: core.ClosedJaxpr = params["jaxpr"]
    num_consts, num_carry, length = params["num_consts"], params["num_carry"], int(params["length"])
    cut = lambda items: (list(items[:num_consts]), list(items[num_consts:num_consts + num_carry]),
                         list(items[num_consts + num_carry:]))
    consts, carry, xs = cut(values)
    const_kinds, carry_kinds, x_kinds = cut(kinds)
    steps = range(length - 1, -1, -1) if params["reverse"] else range(length)
    ys_by_step: dict[int, list] = {}
    y_kinds: list[str] = []
    for t in steps:
      out, out_kinds = self.run(body.jaxpr, body.consts, consts + carry + [x[t] for x in xs],
                                const_kinds + carry_kinds + x_kinds)
      carry, carry_kinds = out[:num_carry], out_kinds[:num_carry]
      ys_by_step[t], y_kinds = out[num_carry:], out_kinds[num_carry:]
    num_ys = len(body.jaxpr.outvars) - num_carry
    ys = [_stack([ys_by_step[t][k] for t in range(length)]) for k in range(num_ys)] if length else []
    # Stacked outputs are graph values even when every step's output was static.
    return carry + ys, carry_kinds + [WEIGHT if k == STATIC else k for k in y_kinds]


def _bind(eqn, values: list, params: dict) -> list:
  out = eqn.primitive.bind(*values, **eqn.primitive.get_bind_params(params))
  return list(out) if eqn.primitive.multiple_results else [out]


def _gather_as_reverse(eqn, values) -> tuple[int, ...] | None:
  """The axes a gather with constant indices reverses (() = identity), or None if it does more.

  The gather is evaluated on an array of element positions: reversing `axes` is the
  only way it can return those positions flipped along `axes`.
  """
  shape = tuple(values[0].shape)
  size = int(np.prod(shape, dtype=int))
  if tuple(eqn.outvars[0].aval.shape) != shape or len(shape) > 5 or size >= 1 << 24:
    return None
  # float32 holds every position exactly below 2**24 (and the gather's NaN fill value).
  positions = np.arange(size, dtype=np.float32).reshape(shape)
  with core.take_current_trace():
    gathered = np.asarray(_bind(eqn, [positions, values[1]], eqn.params)[0])
  flippable = [d for d in range(len(shape)) if shape[d] > 1]
  for mask in range(1 << len(flippable)):
    axes = tuple(d for i, d in enumerate(flippable) if mask >> i & 1)
    if np.array_equal(gathered, np.flip(positions, axes) if axes else positions):
      return axes
  return None


def rewrite(fn: Callable, example: Any, *, profile: str,
            selects_as_select_v2: bool = False) -> tuple[Callable, dict[str, int]]:
  """(`fn` rewritten by `profile`'s rules, {rule: count}); traced once on `example`.

  example: arrays or ShapeDtypeStructs (symbolic dimensions allowed under `unroll`).
  selects_as_select_v2 (micro): also rewrite selects with a run-time predicate (see the
  module docstring); off by default, since the converter fuses some (leaky ReLU) into one op.
  The result takes arguments shaped like `example` and returns the same pytree as fn.
  The counts are filled when the result is traced (by the converter).
  """
  if profile not in PROFILES:
    raise ValueError(f"profile={profile!r} is not a rewrite profile; choose one of {PROFILES}")
  closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(example)
  out_tree = jax.tree_util.tree_structure(out_shape)
  counts: dict[str, int] = {}

  def rewritten(*args):
    rewriter = _Rewriter(profile, selects_as_select_v2)
    flat = jax.tree_util.tree_leaves(args)
    outs, _ = rewriter.run(closed.jaxpr, closed.consts, flat, [INPUT] * len(flat))
    counts.clear()
    counts.update(rewriter.counts)
    return jax.tree_util.tree_unflatten(out_tree, [jnp.asarray(o) for o in outs])

  # The name scope of every tensor in the converted graph ("jit(unrolled)/...").
  rewritten.__name__ = {UNROLL: "unrolled", MICRO: "rewritten"}[profile]
  return rewritten, counts

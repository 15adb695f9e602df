"""Rewrites every `lax.scan` of a function as straight-line code.

TFLite's full-integer quantizer (TensorFlow 2.21) crashes the process on the
WHILE loop a scan becomes; unrolled, the same LSTM quantizes. The rewrite works
on the jaxpr, so model code keeps its scans: each `scan` equation gets
`unroll=length`, and nested jaxprs (jit, cond, while, scan bodies) are rewritten too.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
from jax.extend import core


def _rewrite(jaxpr: core.Jaxpr) -> core.Jaxpr:
  eqns = []
  for eqn in jaxpr.eqns:
    params = {key: _rewrite_param(value) for key, value in eqn.params.items()}
    if eqn.primitive.name == "scan":
      params["unroll"] = max(int(params["length"]), 1)
    eqns.append(eqn.replace(params=params))
  return jaxpr.replace(eqns=eqns)


def _rewrite_param(value):
  if isinstance(value, core.ClosedJaxpr):
    return core.ClosedJaxpr(_rewrite(value.jaxpr), value.consts)
  if isinstance(value, core.Jaxpr):
    return _rewrite(value)
  if isinstance(value, tuple) and value and all(isinstance(v, (core.ClosedJaxpr, core.Jaxpr)) for v in value):
    return tuple(_rewrite_param(v) for v in value)
  return value


def _walk(jaxpr: core.Jaxpr):
  """Every equation of `jaxpr` and of the jaxprs nested in its parameters."""
  for eqn in jaxpr.eqns:
    yield eqn
    for value in eqn.params.values():
      for v in value if isinstance(value, tuple) else (value,):
        if isinstance(v, core.ClosedJaxpr):
          yield from _walk(v.jaxpr)
        elif isinstance(v, core.Jaxpr):
          yield from _walk(v)


def primitives(fn: Callable, example: Any) -> dict[str, int]:
  """{primitive name: count} of `fn` traced on `example`, nested jaxprs included."""
  counts: dict[str, int] = {}
  for eqn in _walk(jax.make_jaxpr(fn)(example).jaxpr):
    counts[eqn.primitive.name] = counts.get(eqn.primitive.name, 0) + 1
  return counts


def count_scans(fn: Callable, example: Any) -> int:
  """How many scan equations `fn` traced on `example` contains, nested ones included."""
  return primitives(fn, example).get("scan", 0)


def unroll_scans(fn: Callable, example: Any) -> Callable:
  """`fn` with every scan fully unrolled; traced once on `example` (arrays or ShapeDtypeStructs).

  The result takes arguments shaped like `example` (symbolic dimensions allowed)
  and returns the same pytree as `fn`.
  """
  closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(example)
  rewritten = core.ClosedJaxpr(_rewrite(closed.jaxpr), closed.consts)
  out_tree = jax.tree_util.tree_structure(out_shape)

  def unrolled(*args):
    flat = jax.tree_util.tree_leaves(args)
    return jax.tree_util.tree_unflatten(out_tree, core.jaxpr_as_fun(rewritten)(*flat))

  return unrolled

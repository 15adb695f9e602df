"""One convolution for every model: 1-D or 2-D, strided, dilated, 'SAME'/'VALID'/'CAUSAL'/explicit padding.

`Conv` holds its parameters exactly as `flax.linen.Conv` does (kernel (K..., F_in, F_out), bias
(F_out,), the same names, initialisers and init draws), so parameter trees and checkpoints do not
depend on how it computes. Two forms with the same numbers (up to float summation order):

  "matmul"  the K... taps of the padded input, each a (strided) slice, side by side on the channel
            axis (im2col), times the kernel reshaped to (K... x F_in, F_out): one dot_general.
            XLA:CPU runs the gradient of its own convolution many times slower inside `lax.scan`
            (the engine's compiled epoch) than in a lone jitted step; this form stays fast there,
            and lowers to slices, concatenation and a fully connected product in TFLite.
            Taps that read only padding for every output are left out.
  "xla"     `lax.conv_general_dilated`, the better choice on accelerators.
  "auto"    (default) "matmul" on CPU, "xla" on GPU/TPU (the backend JAX computes on). Training
            with config.train.stepping "auto" builds InceptionTime with "xla" on CPU and steps its
            epoch from the host, where it is faster (research.train.engine).
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from jax import lax

IMPLS = ("auto", "matmul", "xla")
_DIMENSIONS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}


def resolve_impl(impl: str) -> str:
  """'matmul' or 'xla' for `impl` ('auto' picks by the default backend)."""
  if impl not in IMPLS:
    raise ValueError(f"config.model.conv must be one of {list(IMPLS)}; found {impl!r}")
  if impl == "auto":
    return "matmul" if jax.default_backend() == "cpu" else "xla"
  return impl


def _tuple(value, rank: int) -> tuple[int, ...]:
  return (value,) * rank if isinstance(value, int) else tuple(value)


def explicit_padding(padding, in_sizes, kernel_sizes, strides, dilations) -> list[tuple[int, int]]:
  """(low, high) zero padding per spatial axis, as `nn.Conv` pads for the same arguments."""
  rank = len(in_sizes)
  reach = [(k - 1) * d + 1 for k, d in zip(kernel_sizes, dilations)]
  if isinstance(padding, str):
    if padding == "CAUSAL":
      if rank != 1:
        raise ValueError("Conv: 'CAUSAL' padding is for 1-D convolutions")
      return [(reach[0] - 1, 0)]
    if padding not in ("SAME", "VALID"):
      raise ValueError(f"Conv: padding must be 'SAME', 'VALID', 'CAUSAL' or (low, high) pairs; found {padding!r}")
    return list(lax.padtype_to_pads(in_sizes, reach, strides, padding))
  if isinstance(padding, int):
    padding = (padding,) * rank
  pairs = [(p, p) if isinstance(p, int) else tuple(p) for p in padding]
  if len(pairs) != rank:
    raise ValueError(f"Conv: {rank} spatial axes need {rank} padding pairs; found {padding!r}")
  return pairs


def _useful_taps(size: int, kernel: int, stride: int, dilation: int, low: int, out: int) -> list[int]:
  """Taps k whose input index i * stride + k * dilation - low is inside [0, size) for some output i."""
  return [k for k in range(kernel)
          if any(0 <= i * stride + k * dilation - low < size for i in range(out))]


def conv_matmul(x, kernel, strides, pads, dilations):
  """Cross-correlation of x (B, S..., F_in) with kernel (K..., F_in, F_out) as one matrix product."""
  rank = kernel.ndim - 2
  sizes, kernel_sizes = x.shape[1:1 + rank], kernel.shape[:rank]
  outs = [(n + lo + hi - ((k - 1) * d + 1)) // s + 1
          for n, k, s, d, (lo, hi) in zip(sizes, kernel_sizes, strides, dilations, pads)]
  taps = [_useful_taps(n, k, s, d, lo, o)
          for n, k, s, d, (lo, _), o in zip(sizes, kernel_sizes, strides, dilations, pads, outs)]
  if any(not t for t in taps):  # every tap reads padding only: the output is zero
    return jnp.zeros(x.shape[:1] + tuple(outs) + kernel.shape[-1:], jnp.result_type(x, kernel))
  # Pad only as far as the kept taps read (a long dilation over a short window pads little).
  first = [t[0] * d - lo for t, d, (lo, _) in zip(taps, dilations, pads)]
  last = [(o - 1) * s + t[-1] * d - lo for o, t, s, d, (lo, _) in zip(outs, taps, strides, dilations, pads)]
  low = [max(0, -f) for f in first]
  high = [max(0, l - (n - 1)) for l, n in zip(last, sizes)]
  padded = jnp.pad(x, [(0, 0)] + list(zip(low, high)) + [(0, 0)])
  columns = []
  for tap in itertools.product(*taps):
    start = [k * d - lo + pad_low for k, d, (lo, _), pad_low in zip(tap, dilations, pads, low)]
    limit = [b + (o - 1) * s + 1 for b, o, s in zip(start, outs, strides)]
    columns.append(lax.slice(padded, [0] + start + [0], [x.shape[0]] + limit + [x.shape[-1]],
                             [1] + list(strides) + [1]))
  patches = columns[0] if len(columns) == 1 else jnp.concatenate(columns, axis=-1)  # tap-major, F_in inner
  weights = kernel
  if any(len(t) < k for t, k in zip(taps, kernel_sizes)):
    weights = kernel[np.ix_(*taps)]  # only the kept taps' weights
  weights = weights.reshape(-1, kernel.shape[-1])
  return lax.dot_general(patches, weights, (((patches.ndim - 1,), (0,)), ((), ())))


class Conv(nn.Module):
  """`nn.Conv` with a choice of computation (`impl`: "auto", "matmul" or "xla"; see the module docstring).

  x (B, S..., F_in) -> (B, S'..., features); len(kernel_size) spatial axes (1 or 2).
  """
  features: int
  kernel_size: Sequence[int]
  strides: int | Sequence[int] = 1
  padding: str | int | Sequence[int | tuple[int, int]] = "SAME"
  kernel_dilation: int | Sequence[int] = 1
  use_bias: bool = True
  dtype: Any = None  # computation dtype (parameters stay float32), as nn.Conv's
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()
  impl: str = "auto"

  @nn.compact
  def __call__(self, x):
    kernel_sizes = tuple(self.kernel_size)
    rank = len(kernel_sizes)
    if rank not in _DIMENSIONS or x.ndim != rank + 2:
      raise ValueError(f"Conv: a {rank}-D kernel {kernel_sizes} needs input (batch, {rank} spatial axes, "
                       f"channels), 1-D or 2-D; found shape {x.shape}")
    strides, dilations = _tuple(self.strides, rank), _tuple(self.kernel_dilation, rank)
    impl = resolve_impl(self.impl)
    kernel = self.param("kernel", self.kernel_init, kernel_sizes + (x.shape[-1], self.features))
    bias = self.param("bias", self.bias_init, (self.features,)) if self.use_bias else None
    x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    pads = explicit_padding(self.padding, x.shape[1:-1], kernel_sizes, strides, dilations)
    if impl == "xla":
      y = lax.conv_general_dilated(x, kernel, strides, pads, rhs_dilation=dilations,
                                   dimension_numbers=_DIMENSIONS[rank])
    else:
      y = conv_matmul(x, kernel, strides, pads, dilations)
    return y if bias is None else y + bias

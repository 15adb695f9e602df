"""Conv: both forms equal flax's nn.Conv (XLA's convolution), forward and gradients, and share its parameters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from research.models.conv import Conv

# (input shape, kernel, strides, padding, dilation): 1-D and 2-D, strided, dilated, every padding mode.
CASES = {
    "1d_same": ((2, 13, 3), (5,), 1, "SAME", 1),
    "1d_same_even_kernel": ((2, 13, 3), (4,), 1, "SAME", 1),
    "1d_strided": ((2, 13, 3), (4,), 2, "SAME", 1),
    "1d_valid_strided": ((2, 13, 3), (3,), 3, "VALID", 1),
    "1d_causal_dilated": ((2, 13, 3), (3,), 1, "CAUSAL", 4),
    "1d_dilation_past_the_window": ((2, 6, 3), (3,), 1, "SAME", 8),  # the outer taps read padding only
    "1d_explicit_uneven": ((2, 13, 3), (5,), 1, ((3, 1),), 2),
    "1d_pointwise": ((2, 7, 5), (1,), 1, "SAME", 1),
    "2d_strided_explicit": ((2, 8, 10, 3), (4, 4), (2, 2), ((1, 1), (1, 1)), 1),  # the HHT encoder block
    "2d_same_mixed": ((2, 9, 10, 3), (3, 2), (2, 1), "SAME", (2, 1)),
    "2d_valid": ((2, 9, 10, 3), (3, 3), 1, "VALID", 1),
    "2d_explicit_int": ((2, 7, 7, 2), (3, 3), (2, 2), (2, 0), (1, 2)),
}


def _pair(case, impl, use_bias=True):
  shape, kernel, strides, padding, dilation = CASES[case]
  args = dict(features=4, kernel_size=kernel, strides=strides, padding=padding, kernel_dilation=dilation,
              use_bias=use_bias)
  x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
  return Conv(**args, impl=impl), nn.Conv(**args), x


@pytest.mark.parametrize("impl", ["matmul", "xla"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_and_gradients_equal_flax_conv(case, impl):
  conv, reference, x = _pair(case, impl)
  variables = reference.init(jax.random.key(0), x)
  # The same tree, shapes and initial values: checkpoints do not depend on the form.
  mine = conv.init(jax.random.key(0), x)
  assert jax.tree_util.tree_structure(mine) == jax.tree_util.tree_structure(variables)
  jax.tree_util.tree_map(np.testing.assert_array_equal, mine, variables)
  variables = jax.tree_util.tree_map(lambda a: a + 0.1 * np.random.default_rng(1).normal(size=a.shape), variables)

  np.testing.assert_allclose(conv.apply(variables, x), reference.apply(variables, x), rtol=1e-5, atol=1e-5)

  weights = np.random.default_rng(2).normal(size=reference.apply(variables, x).shape).astype(np.float32)
  loss = lambda module: lambda v, inputs: jnp.sum(weights * jnp.tanh(module.apply(v, inputs)))
  got = jax.grad(loss(conv), argnums=(0, 1))(variables, x)
  want = jax.grad(loss(reference), argnums=(0, 1))(variables, x)
  jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), got, want)


def test_gradient_inside_a_scan_equals_the_plain_gradient():
  conv, reference, x = _pair("2d_strided_explicit", "matmul", use_bias=False)
  variables = reference.init(jax.random.key(0), x)

  def steps(module):
    def body(v, _):
      grads = jax.grad(lambda p: jnp.sum(module.apply(p, x) ** 2))(v)
      return jax.tree_util.tree_map(lambda a, g: a - 1e-3 * g, v, grads), None
    return jax.jit(lambda v: jax.lax.scan(body, v, None, length=3)[0])(variables)

  jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                         steps(conv), steps(reference))


def test_matmul_form_has_no_convolution_op():
  conv, _, x = _pair("2d_strided_explicit", "matmul")
  variables = conv.init(jax.random.key(0), x)
  jaxpr = str(jax.make_jaxpr(jax.grad(lambda v: jnp.sum(conv.apply(v, x))))(variables))
  assert "conv_general_dilated" not in jaxpr and "dot_general" in jaxpr
  xla = Conv(4, (4, 4), strides=2, padding=1, impl="xla")
  assert "conv_general_dilated" in str(jax.make_jaxpr(lambda v: xla.apply(v, x))(variables))


def test_auto_is_matmul_on_cpu():
  conv, _, x = _pair("1d_same", "auto")
  variables = conv.init(jax.random.key(0), x)
  jaxpr = str(jax.make_jaxpr(lambda v: conv.apply(v, x))(variables))
  assert ("conv_general_dilated" in jaxpr) == (jax.default_backend() != "cpu")


def test_bfloat16_computation_keeps_float32_parameters():
  conv = Conv(4, (3,), use_bias=False, dtype=jnp.bfloat16, impl="matmul")
  x = np.random.default_rng(0).normal(size=(2, 9, 3)).astype(np.float32)
  variables = conv.init(jax.random.key(0), x)
  assert variables["params"]["kernel"].dtype == jnp.float32
  out = conv.apply(variables, x)
  assert out.dtype == jnp.bfloat16
  want = nn.Conv(4, (3,), use_bias=False).apply(variables, x)
  np.testing.assert_allclose(np.asarray(out, np.float32), want, rtol=5e-2, atol=5e-2)


@pytest.mark.parametrize("kwargs,message", [
    ({"impl": "fast"}, "config.model.conv must be one of"),
    ({"padding": "FULL"}, "padding must be"),
    ({"padding": ((1, 1), (1, 1))}, "1 spatial axes need 1 padding pairs"),
])
def test_bad_arguments_say_what_is_expected(kwargs, message):
  x = np.zeros((1, 5, 2), np.float32)
  with pytest.raises(ValueError, match=message):
    Conv(3, (3,), **kwargs).init(jax.random.key(0), x)

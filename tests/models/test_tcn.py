"""TCN: dilated convolution vs NumPy, causality (zero gradient from the future), masks, shapes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.models import MODELS
from research.models import tcn


def _numpy_dilated_conv(x_BTF, kernel_KFH, bias_H, dilation, causal):
  """Zero-padded dilated cross-correlation, frame by frame."""
  size = kernel_KFH.shape[0]
  reach = (size - 1) * dilation
  left = reach if causal else reach // 2
  batch, steps, _ = x_BTF.shape
  out = np.zeros((batch, steps, kernel_KFH.shape[2]))
  for t in range(steps):
    for k in range(size):
      source = t + k * dilation - left
      if 0 <= source < steps:
        out[:, t] += x_BTF[:, source] @ kernel_KFH[k]
  return out + bias_H


@pytest.mark.parametrize("dilation,causal", [(1, False), (2, True), (4, False), (16, True), (64, False)])
def test_dilated_conv_matches_numpy(dilation, causal):
  rng = np.random.default_rng(dilation)
  x = rng.normal(size=(2, 12, 3)).astype(np.float32)
  conv = tcn.dilated_conv(features=4, kernel_size=3, dilation=dilation, causal=causal)
  variables = conv.init(jax.random.key(0), x)
  kernel = rng.normal(size=(3, 3, 4)).astype(np.float32)
  bias = rng.normal(size=(4,)).astype(np.float32)
  out = conv.apply({"params": {"kernel": kernel, "bias": bias}}, x)
  assert variables["params"]["kernel"].shape == (3, 3, 4)
  np.testing.assert_allclose(out, _numpy_dilated_conv(x, kernel, bias, dilation, causal), rtol=1e-5, atol=1e-5)


def _small_tcn(causal):
  return tcn.TCN(num_classes=5, features=8, num_blocks=3, num_heads=2, head_sizes=(8,), dropout=0.0,
                 causal=causal)


@pytest.mark.parametrize("causal", [True, False])
def test_causal_segmentation_has_zero_gradient_from_the_future(causal):
  model = _small_tcn(causal)
  x = jax.random.normal(jax.random.key(1), (2, 10, 6))
  variables = jax.jit(lambda x: model.init(jax.random.key(2), x, train=False))(x)
  t = 4

  def seg_at_t(x):
    return model.apply(variables, x, train=False)["seg_logits"][:, t].sum()

  grad = jax.jit(jax.grad(seg_at_t))(x)
  future = np.abs(np.asarray(grad[:, t + 1:])).max()
  past = np.abs(np.asarray(grad[:, :t + 1])).max()
  assert past > 0
  if causal:
    assert future == 0.0
  else:
    assert future > 1e-6  # the test can fail: a non-causal model does look ahead


def test_output_shapes_and_registry():
  assert MODELS["tcn"] is tcn.TCN
  model = tcn.TCN(features=8, num_blocks=2, num_heads=2, head_sizes=(8,))
  x = jnp.ones((3, 12, 25))
  variables = jax.eval_shape(lambda x: model.init({"params": jax.random.key(0)}, x, train=False), x)
  out = jax.eval_shape(lambda v, x: model.apply(v, x, train=True, rngs={"dropout": jax.random.key(2)}),
                       variables, x)
  assert out["logits"].shape == (3, 5) and out["seg_logits"].shape == (3, 12)
  with pytest.raises(ValueError, match="batch, frames, features"):
    jax.eval_shape(lambda v: model.apply(v, jnp.ones((3, 12)), train=False), variables)


def test_padding_frames_do_not_change_valid_outputs():
  model = _small_tcn(causal=False)  # non-causal: padding after the valid frames is within reach
  x = jax.random.normal(jax.random.key(3), (1, 10, 6))
  mask = jnp.arange(10)[None] < 7
  variables = jax.jit(lambda x: model.init(jax.random.key(4), x, train=False, mask=mask))(x)
  apply = jax.jit(lambda x: model.apply(variables, x, train=False, mask=mask))
  out = apply(x)
  out2 = apply(x.at[:, 7:].set(100.0))
  np.testing.assert_allclose(out["seg_logits"][:, :7], out2["seg_logits"][:, :7], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(out["logits"], out2["logits"], rtol=1e-5, atol=1e-5)

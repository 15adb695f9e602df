"""Temporal convolutional network with self-attention and two heads (workout tracker).

Backbone: residual blocks of dilated 1-D convolutions (dilation doubling per block), each
conv followed by LayerNorm, ReLU and dropout; a 1x1 conv matches channels on the skip path.
Then multi-head self-attention with a residual connection and LayerNorm. Heads:
  logits     (B, C): average over valid frames -> Dense 128/64/32 (ReLU) -> Dense C
  seg_logits (B, T): per frame Dense 128/64/32 (ReLU) -> Dense 1 (a sigmoid gives the probability)
With `causal=True` the convolutions pad on the left only and attention is masked to the
past, so `seg_logits[:, t]` depends on frames <= t only (the class head still pools the window).
"""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp
from flax import linen as nn

from research.models.conv import Conv


def dilated_conv(features: int, kernel_size: int, dilation: int = 1, causal: bool = False,
                 impl: str = "auto", name: str | None = None) -> Conv:
  """A zero-padded dilated 1-D convolution, same length out: left padding (kernel - 1) * dilation
  for causal, half of that otherwise. Taps that read only padding are skipped by the matmul form,
  so a dilation longer than the window costs a 1x1 conv instead of a conv over padding."""
  reach = (kernel_size - 1) * dilation
  left = reach if causal else reach // 2
  return Conv(features, (kernel_size,), padding=((left, reach - left),), kernel_dilation=dilation,
              impl=impl, name=name)


class TemporalBlock(nn.Module):
  """`convs` dilated convolutions (kernel k, dilation d) with a residual connection."""
  features: int
  kernel_size: int
  dilation: int
  dropout: float
  causal: bool
  convs: int = 2
  conv: str = "auto"  # Conv.impl

  @nn.compact
  def __call__(self, h_BTF, valid_BT1, *, train: bool):
    y = h_BTF
    for index in range(self.convs):
      y = dilated_conv(self.features, self.kernel_size, self.dilation, self.causal, self.conv,
                       name=f"conv_{index}")(y)
      y = nn.LayerNorm(name=f"norm_{index}")(y)
      y = nn.relu(y)
      y = nn.Dropout(self.dropout, deterministic=not train)(y)
      y = y * valid_BT1  # padded frames stay zero, so they never leak into valid ones
    skip = h_BTF
    if skip.shape[-1] != self.features:
      skip = Conv(self.features, (1,), impl=self.conv, name="skip")(skip)
    return nn.relu(y + skip) * valid_BT1


def _mlp(h, sizes: Sequence[int], prefix: str):
  for index, size in enumerate(sizes):
    h = nn.relu(nn.Dense(size, name=f"{prefix}_{index}")(h))
  return h


class TCN(nn.Module):
  """Multitask TCN: `{'logits': (B, C), 'seg_logits': (B, T)}` from x (B, T, F)."""
  num_classes: int = 5
  features: int = 128
  num_blocks: int = 8
  kernel_size: int = 3
  dilation_base: int = 2  # dilation of block i is dilation_base ** i
  convs_per_block: int = 2
  dropout: float = 0.25
  num_heads: int = 4  # 0 disables the attention layer
  head_sizes: tuple[int, ...] = (128, 64, 32)
  causal: bool = False
  conv: str = "auto"  # Conv.impl: "matmul" (CPU), "xla" (accelerators) or "auto" (by backend)

  @nn.compact
  def __call__(self, x_BTF, *, train: bool, mask=None):
    if x_BTF.ndim != 3:
      raise ValueError(f"TCN expects (batch, frames, features); found shape {x_BTF.shape}")
    batch, frames, _ = x_BTF.shape
    valid_BT = jnp.ones((batch, frames), bool) if mask is None else jnp.asarray(mask, bool)
    if valid_BT.shape != (batch, frames):
      raise ValueError(f"TCN mask must be (batch, frames) = {(batch, frames)}; found {valid_BT.shape}")
    valid_BT1 = valid_BT[..., None].astype(x_BTF.dtype)
    h_BTH = x_BTF * valid_BT1
    for index in range(self.num_blocks):
      h_BTH = TemporalBlock(self.features, self.kernel_size, self.dilation_base ** index, self.dropout,
                            self.causal, self.convs_per_block, self.conv, name=f"block_{index}")(
                                h_BTH, valid_BT1, train=train)
    if self.num_heads:
      attend = nn.make_attention_mask(valid_BT, valid_BT)
      if self.causal:
        attend = nn.combine_masks(attend, nn.make_causal_mask(valid_BT))
      a_BTH = nn.MultiHeadDotProductAttention(
          num_heads=self.num_heads, qkv_features=self.features, dropout_rate=self.dropout,
          deterministic=not train, name="attention")(h_BTH, h_BTH, mask=attend)
      h_BTH = nn.LayerNorm(name="attention_norm")(h_BTH + a_BTH) * valid_BT1
    pooled_BH = h_BTH.sum(1) / jnp.maximum(valid_BT1.sum(1), 1.0)
    logits_BC = nn.Dense(self.num_classes, name="cls_out")(_mlp(pooled_BH, self.head_sizes, "cls"))
    seg_BT = nn.Dense(1, name="seg_out")(_mlp(h_BTH, self.head_sizes, "seg"))[..., 0]
    return {"logits": logits_BC, "seg_logits": seg_BT}

"""The HHT-image CNN encoder and its softmax classifier.

Encoder (the seed's, unchanged): three Conv2D stride-2 blocks 1 -> 64 -> 128 -> 256
channels, each InstanceNorm + LeakyReLU, then global average pooling to a 256-d
feature. A 256 x 256 image shrinks 256 -> 128 -> 64 -> 32 before the pooling.

Kernel 4 with one cell of padding on each side (the usual stride-2 encoder block,
e.g. pix2pix) halves every side exactly; InstanceNorm without learned scale/bias
and LeakyReLU slope 0.2 follow PyTorch's InstanceNorm2d default and that block.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import linen as nn

from research.models.conv import Conv


class HHTEncoder(nn.Module):
  """(B, H, W, 1) images -> (B, features[-1]) features; each block's output is sown
  into 'intermediates' as block_i."""
  features: tuple[int, ...] = (64, 128, 256)
  kernel_size: int = 4
  negative_slope: float = 0.2
  conv: str = "auto"  # Conv.impl: "matmul" (CPU), "xla" (accelerators) or "auto" (by backend)

  @nn.compact
  def __call__(self, x_BHWC, *, train: bool = False, mask=None):
    del train, mask  # InstanceNorm keeps no batch statistics; nothing depends on the batch.
    if x_BHWC.ndim != 4:
      raise ValueError(f"HHTEncoder expects images (batch, time, frequency, channels); "
                       f"found shape {x_BHWC.shape}")
    pad = (self.kernel_size - 1) // 2  # PyTorch's padding: out = in // 2 for even sides
    h = x_BHWC
    for index, width in enumerate(self.features):
      h = Conv(width, (self.kernel_size, self.kernel_size), strides=(2, 2),
               padding=((pad, pad), (pad, pad)), impl=self.conv, name=f"conv_{index}")(h)
      h = nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False, name=f"norm_{index}")(h)
      h = nn.leaky_relu(h, self.negative_slope)
      self.sow("intermediates", f"block_{index}", h)
    return jnp.mean(h, axis=(1, 2))


class HHTClassifier(nn.Module):
  """HHTEncoder + dropout + Dense softmax head: logits (B, num_classes).

  `encode` gives the 256-d features the SVM head is fitted on.
  """
  num_classes: int = 6
  features: tuple[int, ...] = (64, 128, 256)
  kernel_size: int = 4
  negative_slope: float = 0.2
  dropout: float = 0.0
  conv: str = "auto"  # HHTEncoder.conv
  # The exported graph's form: TFLite's CONV_2D (ESP-NN and per-channel int8 kernels); the matmul
  # form's patches of a 256 x 256 image would multiply the TFLM arena.
  export_conv = "xla"

  def setup(self):
    self.encoder = HHTEncoder(self.features, self.kernel_size, self.negative_slope, self.conv)
    self.drop = nn.Dropout(self.dropout)
    self.head = nn.Dense(self.num_classes)

  def encode(self, x_BHWC, *, train: bool = False, mask=None):
    return self.encoder(x_BHWC, train=train, mask=mask)

  def __call__(self, x_BHWC, *, train: bool, mask=None):
    feature_BD = self.encoder(x_BHWC, train=train, mask=mask)
    return self.head(self.drop(feature_BD, deterministic=not train))

"""InceptionTime (Ismail Fawaz et al., Data Mining and Knowledge Discovery 2020): one network.

(B, T, F) -> 6 Inception modules -> global average pooling over valid frames -> Dense logits.
An Inception module:
  bottleneck   1x1 conv to 32 channels (only when the input has more than one channel)
  three convs  kernels 39, 19, 9 on the bottleneck, 32 filters each, 'same' padding
  pool branch  max-pool (3, stride 1, 'same') of the module input -> 1x1 conv, 32 filters
  concatenate  4 x 32 = 128 channels -> BatchNorm -> ReLU
Convolutions have no bias (BatchNorm follows); `conv` picks how `research.models.conv.Conv` computes
them: "matmul" (one matrix product over shifted copies), "xla" or "auto" (default: by backend).
Every third module ends with a residual shortcut from the input of the three: 1x1 conv +
BatchNorm, added, then ReLU. Initialisers
(Glorot uniform) and BatchNorm settings (momentum 0.99, epsilon 1e-3) are the Keras defaults
the published code ran with.

Kernel sizes: the published code (hfawaz/InceptionTime, `kernel_size=41` minus 1, halved) uses
39/19/9, the paper's formula 40 // 2**i gives 40/20/10 (aeon's default). We default to 39/19/9:
those are the networks behind the published results, and odd kernels centre 'same' padding (an
even kernel pads one frame more on the right). `kernel_sizes=(40, 20, 10)` gives aeon's network;
even kernels pad as Keras does, (k - 1) // 2 left and k // 2 right.

Masks: `mask` (B, T) marks valid frames, a prefix of each row. Padded frames are zero before
every convolution and -inf before the max-pool, so a padded series gives, in inference mode,
exactly the output of the series alone; BatchNorm statistics use valid frames only.

The published classifier is an ensemble of 5 such networks from different random initialisations
whose softmax outputs are averaged; train 5 seeds (one vmapped program) and average their
probabilities. Published training: Adam (lr 1e-3), batch 64, 1500 epochs, reduce-on-plateau of the
training loss (factor 0.5, patience 50, min 1e-4), keeping the weights of the lowest training loss.

`encode` gives the pooled (B, 4 * filters) features a head may be fitted on.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
from flax import linen as nn
from jax import lax

from research.models.conv import Conv

GLOROT = nn.initializers.glorot_uniform()


def _same_padding(kernel_size: int) -> tuple[int, int]:
  return ((kernel_size - 1) // 2, kernel_size // 2)  # Keras/TF 'same'


def same_conv(features: int, kernel_size: int, impl: str = "auto", name: str | None = None) -> Conv:
  """Bias-free 'same' 1-D convolution with Glorot kernel (K, F_in, F_out); an even kernel pads one
  frame more on the right, as Keras does."""
  return Conv(features, (kernel_size,), padding=(_same_padding(kernel_size),), use_bias=False,
              kernel_init=GLOROT, impl=impl, name=name)


class InceptionModule(nn.Module):
  """Bottleneck, parallel convolutions and a max-pool branch, concatenated; BatchNorm, ReLU."""
  filters: int = 32
  kernel_sizes: tuple[int, ...] = (39, 19, 9)
  bottleneck: int = 32  # 0: no bottleneck
  pool_size: int = 3
  bn_momentum: float = 0.99
  bn_epsilon: float = 1e-3
  conv: str = "auto"  # Conv.impl

  @nn.compact
  def __call__(self, h_BTF, valid_BT1, *, train: bool):
    valid = valid_BT1 > 0
    z_BTF = h_BTF
    if self.bottleneck and h_BTF.shape[-1] > 1:
      z_BTF = same_conv(self.bottleneck, 1, self.conv, name="bottleneck")(h_BTF)
    branches = [same_conv(self.filters, k, self.conv, name=f"conv_{i}")(z_BTF)
                for i, k in enumerate(self.kernel_sizes)]
    # Max-pool (stride 1, 'same') as a maximum of shifted copies: TFLite gets MAXIMUM ops instead
    # of a generic reduce_window, and the gradient avoids XLA:CPU's slow select-and-scatter.
    steps = h_BTF.shape[1]
    padded = jnp.pad(jnp.where(valid, h_BTF, -jnp.inf), ((0, 0), _same_padding(self.pool_size), (0, 0)),
                     constant_values=-jnp.inf)
    pooled = functools.reduce(jnp.maximum, [lax.slice_in_dim(padded, k, k + steps, axis=1)
                                            for k in range(self.pool_size)])
    pooled = jnp.where(valid, pooled, 0.0)  # padded frames held -inf
    branches.append(same_conv(self.filters, 1, self.conv, name="pool_conv")(pooled))
    y_BTH = jnp.concatenate(branches, axis=-1)
    y_BTH = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                         epsilon=self.bn_epsilon, name="norm")(
                             y_BTH, mask=jnp.broadcast_to(valid, y_BTH.shape))
    return nn.relu(y_BTH) * valid_BT1


class Shortcut(nn.Module):
  """Residual path: 1x1 conv + BatchNorm of the block input, added to the block output, ReLU."""
  bn_momentum: float = 0.99
  bn_epsilon: float = 1e-3
  conv: str = "auto"  # Conv.impl

  @nn.compact
  def __call__(self, residual_BTF, out_BTH, valid_BT1, *, train: bool):
    s_BTH = same_conv(out_BTH.shape[-1], 1, self.conv, name="conv")(residual_BTF)
    s_BTH = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                         epsilon=self.bn_epsilon, name="norm")(
                             s_BTH, mask=jnp.broadcast_to(valid_BT1 > 0, s_BTH.shape))
    return nn.relu(s_BTH + out_BTH) * valid_BT1


class InceptionTime(nn.Module):
  """One InceptionTime network: logits (B, num_classes) from x (B, T, F)."""
  num_classes: int
  filters: int = 32
  depth: int = 6
  kernel_sizes: tuple[int, ...] = (39, 19, 9)
  bottleneck: int = 32
  residual: bool = True  # a shortcut every 3 modules
  pool_size: int = 3
  bn_momentum: float = 0.99
  bn_epsilon: float = 1e-3
  conv: str = "auto"  # Conv.impl: "matmul" (CPU, also fast inside lax.scan), "xla" (accelerators), "auto"

  def setup(self):
    norm = {"bn_momentum": self.bn_momentum, "bn_epsilon": self.bn_epsilon}
    self.blocks = [InceptionModule(self.filters, tuple(self.kernel_sizes), self.bottleneck,
                                   self.pool_size, **norm, conv=self.conv) for _ in range(self.depth)]
    self.shortcuts = ([Shortcut(**norm, conv=self.conv) for _ in range(self.depth // 3)]
                      if self.residual else [])
    self.head = nn.Dense(self.num_classes, kernel_init=GLOROT)

  def encode(self, x_BTF, *, train: bool = False, mask=None):
    """Features (B, 4 * filters): the last module's output averaged over valid frames."""
    if x_BTF.ndim != 3:
      raise ValueError(f"InceptionTime expects (batch, frames, features); found shape {x_BTF.shape}")
    batch, frames, _ = x_BTF.shape
    valid_BT = jnp.ones((batch, frames), bool) if mask is None else jnp.asarray(mask, bool)
    if valid_BT.shape != (batch, frames):
      raise ValueError(f"InceptionTime mask must be (batch, frames) = {(batch, frames)}; "
                       f"found {valid_BT.shape}")
    valid_BT1 = valid_BT[..., None].astype(x_BTF.dtype)
    h = jnp.where(valid_BT[..., None], x_BTF, 0.0)
    residual = h
    for index, block in enumerate(self.blocks):
      h = block(h, valid_BT1, train=train)
      if self.residual and index % 3 == 2:
        h = self.shortcuts[index // 3](residual, h, valid_BT1, train=train)
        residual = h
    return h.sum(1) / jnp.maximum(valid_BT1.sum(1), 1.0)

  def __call__(self, x_BTF, *, train: bool, mask=None):
    return self.head(self.encode(x_BTF, train=train, mask=mask))

"""InceptionTime: one module vs NumPy, the whole network vs aeon's Keras network, masks, registry."""

from __future__ import annotations

import os
import re

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from research.models import build_model
from research.models import inception_time


def _numpy_conv_same(x_BTF, kernel_KFH):
  """Cross-correlation with Keras 'same' zero padding: (k - 1) // 2 frames left, k // 2 right."""
  size = kernel_KFH.shape[0]
  left = (size - 1) // 2
  batch, steps, _ = x_BTF.shape
  out = np.zeros((batch, steps, kernel_KFH.shape[2]))
  for t in range(steps):
    for k in range(size):
      source = t + k - left
      if 0 <= source < steps:
        out[:, t] += x_BTF[:, source] @ kernel_KFH[k]
  return out


def _numpy_module(x_BTF, params, stats, kernel_sizes, epsilon):
  z = x_BTF @ params["bottleneck"]["kernel"][0] if "bottleneck" in params else x_BTF
  branches = [_numpy_conv_same(z, params[f"conv_{i}"]["kernel"]) for i in range(len(kernel_sizes))]
  padded = np.pad(x_BTF, ((0, 0), (1, 1), (0, 0)), constant_values=-np.inf)
  pooled = np.maximum(np.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
  branches.append(pooled @ params["pool_conv"]["kernel"][0])
  y = np.concatenate(branches, axis=-1)
  norm = params["norm"]
  y = (y - stats["norm"]["mean"]) / np.sqrt(stats["norm"]["var"] + epsilon) * norm["scale"] + norm["bias"]
  return np.maximum(y, 0.0)


def _randomise_stats(variables, seed):
  """Non-trivial BatchNorm running statistics, so inference-mode checks exercise them."""
  rng = np.random.default_rng(seed)
  stats = jax.tree_util.tree_map_with_path(
      lambda path, a: (rng.uniform(0.5, 2.0, a.shape) if path[-1].key == "var" else rng.normal(size=a.shape)
                       ).astype(np.float32), variables["batch_stats"])
  params = jax.tree_util.tree_map(
      lambda a: (np.asarray(a) + 0.1 * rng.normal(size=a.shape)).astype(np.float32), variables["params"])
  return {"params": params, "batch_stats": stats}


@pytest.mark.parametrize("channels,kernel_sizes", [(3, (9, 5, 3)), (1, (10, 6, 4))])
def test_inception_module_matches_numpy(channels, kernel_sizes):
  module = inception_time.InceptionModule(filters=4, kernel_sizes=kernel_sizes, bottleneck=5)
  x = np.random.default_rng(0).normal(size=(2, 11, channels)).astype(np.float32)
  valid = np.ones((2, 11, 1), np.float32)
  variables = _randomise_stats(module.init(jax.random.key(0), x, valid, train=False), 1)
  assert ("bottleneck" in variables["params"]) == (channels > 1)  # no bottleneck on one channel
  got = jax.jit(lambda v: module.apply(variables, v, valid, train=False))(x)
  want = _numpy_module(x.astype(np.float64), variables["params"], variables["batch_stats"],
                       kernel_sizes, epsilon=1e-3)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel_size", [9, 10])
def test_matmul_convolution_equals_xla_convolution(kernel_size):
  x = np.random.default_rng(5).normal(size=(2, 13, 3)).astype(np.float32)
  conv = inception_time.same_conv(4, kernel_size, impl="matmul")
  variables = conv.init(jax.random.key(0), x)
  got = conv.apply(variables, x)
  want = inception_time.same_conv(4, kernel_size, impl="xla").apply(variables, x)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(got, _numpy_conv_same(x.astype(np.float64), variables["params"]["kernel"]),
                             rtol=1e-5, atol=1e-5)


def _small(num_classes=3):
  """Three modules (one shortcut), four filters: the structure of the real one, tiny."""
  return inception_time.InceptionTime(num_classes=num_classes, filters=4, bottleneck=4, depth=3,
                                      kernel_sizes=(9, 5, 3))


def test_registry_fills_num_classes_and_shapes():
  config = ml_collections.ConfigDict({"name": "inception_time", "filters": 4, "bottleneck": 4, "depth": 3})
  model = build_model(config, {"class_names": ["a", "b", "c", "d"]})
  x = jnp.ones((2, 20, 6))
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), x, train=False))
  shape = lambda **kw: jax.eval_shape(lambda v: model.apply(v, x, train=False, **kw), variables).shape
  assert shape() == (2, 4)
  assert shape(method=model.encode) == (2, 16)
  assert set(variables) == {"params", "batch_stats"}
  assert len(variables["params"]["blocks_0"]["conv_0"]["kernel"]) == 39  # the published kernels
  with pytest.raises(ValueError, match="mask must be"):
    shape(mask=jnp.ones((2, 19), bool))


def test_padded_frames_change_nothing():
  model = _small()
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 24, 3)).astype(np.float32)
  variables = _randomise_stats(model.init(jax.random.key(0), x, train=False), 2)
  lengths = (15, 24)
  padded = x.copy()
  padded[0, 15:] = 1e3  # garbage after the end of series 0
  mask = np.arange(24)[None, :] < np.array(lengths)[:, None]
  apply = jax.jit(lambda v, m: model.apply(variables, v, train=False, mask=m))
  out = apply(padded, mask)
  np.testing.assert_allclose(out[0], apply(x[:1, :15], None)[0], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(out[1], apply(x[1:], None)[0], rtol=1e-5, atol=1e-5)
  # No gradient reaches the padded frames.
  grad = jax.jit(jax.grad(lambda v: apply(v, mask).sum()))(jnp.asarray(padded))
  assert np.all(np.asarray(grad)[0, 15:] == 0) and np.any(np.asarray(grad)[0, :15] != 0)


def test_batch_statistics_use_valid_frames_only():
  model = _small()
  rng = np.random.default_rng(1)
  x = rng.normal(size=(1, 13, 3)).astype(np.float32)
  variables = model.init(jax.random.key(0), x, train=False)
  padded = np.concatenate([x, 50 + rng.normal(size=(1, 7, 3)).astype(np.float32)], axis=1)
  mask = np.arange(20)[None, :] < 13
  apply = jax.jit(lambda v, m: model.apply(variables, v, train=True, mask=m, mutable=["batch_stats"]))
  out_a, new_a = apply(padded, mask)
  out_b, new_b = apply(x, None)
  np.testing.assert_allclose(out_a, out_b, rtol=1e-5, atol=1e-5)
  jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                         new_a["batch_stats"], new_b["batch_stats"])


def _keras_network(channels, steps, kernel_size, num_classes):
  """aeon's InceptionNetwork (Keras) with the published Dense softmax layer on top."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  tf = pytest.importorskip("tensorflow")
  networks = pytest.importorskip("aeon.networks")
  tf.keras.backend.clear_session()  # layer names count from zero again: conv1d, conv1d_1, ...
  inputs, pooled = networks.InceptionNetwork(kernel_size=kernel_size).build_network((steps, channels))
  outputs = tf.keras.layers.Dense(num_classes, activation="softmax")(pooled)
  return tf.keras.Model(inputs, outputs)


def _in_creation_order(model, kind):
  def index(layer):
    found = re.search(r"_(\d+)$", layer.name)
    return int(found.group(1)) if found else 0
  return sorted((layer for layer in model.layers if type(layer).__name__ == kind), key=index)


@pytest.mark.parametrize("channels,kernel_size", [(6, 39), pytest.param(1, 40, marks=pytest.mark.slow)])
def test_matches_aeon_keras_network(channels, kernel_size):
  """Same parameter count as aeon's Keras InceptionTime; with its weights copied, the same outputs."""
  steps, num_classes = 30, 4
  keras_model = _keras_network(channels, steps, kernel_size, num_classes)
  model = inception_time.InceptionTime(num_classes=num_classes,
                                       kernel_sizes=tuple(kernel_size // 2 ** i for i in range(3)))
  x = np.random.default_rng(3).normal(size=(3, steps, channels)).astype(np.float32)
  variables = _randomise_stats(model.init(jax.random.key(0), x, train=False), 4)
  count = lambda tree: sum(a.size for a in jax.tree_util.tree_leaves(tree))
  trainable = sum(int(np.prod(w.shape)) for w in keras_model.trainable_weights)
  frozen = sum(int(np.prod(w.shape)) for w in keras_model.non_trainable_weights)
  assert (count(variables["params"]), count(variables["batch_stats"])) == (trainable, frozen)

  convs = iter(_in_creation_order(keras_model, "Conv1D"))
  norms = iter(_in_creation_order(keras_model, "BatchNormalization"))
  params, stats = variables["params"], variables["batch_stats"]

  def copy_norm(p, s):
    next(norms).set_weights([p["scale"], p["bias"], s["mean"], s["var"]])

  for i in range(6):
    block = params[f"blocks_{i}"]
    branches = ["conv_0", "conv_1", "conv_2", "pool_conv"]
    for name in (["bottleneck"] if "bottleneck" in block else []) + branches:
      next(convs).set_weights([block[name]["kernel"]])
    copy_norm(block["norm"], stats[f"blocks_{i}"]["norm"])
    if i % 3 == 2:
      shortcut = params[f"shortcuts_{i // 3}"]
      next(convs).set_weights([shortcut["conv"]["kernel"]])
      copy_norm(shortcut["norm"], stats[f"shortcuts_{i // 3}"]["norm"])
  (dense,) = [layer for layer in keras_model.layers if type(layer).__name__ == "Dense"]
  dense.set_weights([params["head"]["kernel"], params["head"]["bias"]])
  assert next(convs, None) is None and next(norms, None) is None  # every Keras layer was filled

  want = np.asarray(keras_model(x, training=False))
  got = jax.nn.softmax(jax.jit(lambda v: model.apply(variables, v, train=False))(x))
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.export
@pytest.mark.parametrize("dynamic_batch", [False, True])
def test_converts_to_tflite_builtins(dynamic_batch):
  """Fixed and symbolic batch (a stacked-taps einsum once converted silently wrong with the latter)."""
  pytest.importorskip("tensorflow")
  from research.export.tflite import converter as tflite, parity
  model = _small(num_classes=4)
  x = np.random.default_rng(6).normal(size=(3, 16, 2)).astype(np.float32)
  variables = _randomise_stats(model.init(jax.random.key(0), x, train=False), 7)
  fn = lambda v: {"logits": model.apply(variables, v, train=False)}
  exported = tflite.convert(fn, x, dynamic_batch=dynamic_batch, where="InceptionTime")
  assert "MAXIMUM" in exported.ops  # the max-pool branch, as a maximum of shifted copies
  got = parity.run(exported.model, exported.summary(), x)["logits"]
  np.testing.assert_allclose(got, np.asarray(jax.jit(fn)(x)["logits"]), rtol=1e-4, atol=1e-5)

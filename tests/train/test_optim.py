"""Coupled L2 (torch Adam weight_decay) vs decoupled AdamW, against NumPy Adam."""

import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from research.train import optim


def config(**overrides):
  cfg = ml_collections.ConfigDict(dict(name="adam", lr=0.1, l2=0.0, weight_decay=0.0, momentum=0.0,
                                       clip_norm=0.0))
  cfg.update(overrides)
  return cfg


def numpy_adam_step(param, grad, lr, b1=0.9, b2=0.999, eps=1e-8):
  m, v = (1 - b1) * grad, (1 - b2) * grad ** 2
  m_hat, v_hat = m / (1 - b1), v / (1 - b2)
  return param - lr * m_hat / (np.sqrt(v_hat) + eps)


def one_step(cfg, param, grad):
  opt = optim.build_optimizer(cfg)
  state = opt.init(jnp.asarray(param))
  updates, _ = opt.update(jnp.asarray(grad), state, jnp.asarray(param))
  return np.asarray(optax.apply_updates(jnp.asarray(param), updates))


def test_coupled_l2_adds_decay_to_gradient_before_adam():
  param, grad = np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.3, -0.2])
  got = one_step(config(l2=0.5), param, grad)
  np.testing.assert_allclose(got, numpy_adam_step(param, grad + 0.5 * param, 0.1), rtol=1e-5)


def test_adamw_decays_weights_outside_adam():
  param, grad = np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.3, -0.2])
  got = one_step(config(name="adamw", weight_decay=0.5), param, grad)
  expected = numpy_adam_step(param, grad, 0.1) - 0.1 * 0.5 * param
  np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_clip_by_global_norm_and_lr_in_state():
  param, grad = np.array([0.0, 0.0]), np.array([3.0, 4.0])  # norm 5 -> clipped to norm 1
  got = one_step(config(name="sgd", lr=1.0, clip_norm=1.0), param, grad)
  np.testing.assert_allclose(got, [-0.6, -0.8], rtol=1e-6)
  state = optim.build_optimizer(config(lr=0.01)).init(jnp.zeros(2))
  assert float(optim.get_lr(optim.set_lr(state, 0.005))) == np.float32(0.005)

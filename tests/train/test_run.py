"""The engine end to end on the smoke LSTM filter: records, resume, refusal, NaN stop."""

import json

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from research import config_file
from research.data import load_dataset
from research.tasks import regression
from research import workdir as workdir_lib
from research.train import TrainingError, checkpoint, engine, fit, load_run, loop, optim, sampling

LSTM_FILTER = str(pathlib.Path(__file__).resolve().parents[2] / "configs" / "lstm_filter.py")


def tiny_config(epochs=2):
  config = config_file.load(LSTM_FILTER + ":smoke")
  config.data.duration = 0.2
  config.model.hidden_sizes = (4, 4)
  config.train.epochs = epochs
  return config


def latest_state(workdir, config):
  """The run's saved train state (its one run, unstacked) and the checkpoint's meta."""
  run = load_run(workdir)
  mgr = checkpoint.manager(workdir / "checkpoints", config.train.monitor, config.train.mode)
  opt = optim.build_optimizer(config.optim)
  like = loop.init_states(run.model, opt, np.zeros((1, 50, 5), np.float32), "min", [0])
  state, meta = checkpoint.restore(mgr, mgr.latest_step(), like)
  return jax.tree_util.tree_map(lambda a: a[0], state), meta


def test_smoke_fit_writes_the_record(tmp_path):
  config = tiny_config()
  report = fit(config, load_dataset(config), tmp_path)
  for name in ("config.json", "dataset.json", "history.jsonl", "report.json", "report.md",
               "plots/loss.png", "plots/predictions.png"):
    assert (tmp_path / name).exists(), name
  assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
  history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
  assert [row["epoch"] for row in history] == [1, 2]
  for key in ("loss", "val_loss", "lr", "grad_norm", "param_norm", "seconds"):
    assert np.isfinite(history[0][key]), key
  assert report["overall"]["zero_prediction_mse"] > 0.3
  assert "zero prediction" in (tmp_path / "report.md").read_text()


def test_load_run_gives_best_or_last_weights(tmp_path):
  config = tiny_config()
  config.train.mode = "max"  # The falling validation loss makes epoch 1 the "best", not the last.
  fit(config, load_dataset(config), tmp_path)
  assert workdir_lib.best_row(workdir_lib.read_history(tmp_path / "history.jsonl"))["epoch"] == 1
  state, _ = latest_state(tmp_path, config)
  for best, expected in ((True, state.best_params), (False, state.params)):
    got = load_run(tmp_path, best=best).variables["params"]
    jax.tree_util.tree_map(np.testing.assert_array_equal, got, expected)
  assert not np.array_equal(state.params["head"]["bias"], state.best_params["head"]["bias"])


def test_two_plus_two_epochs_equal_four_bitwise(tmp_path):
  dataset = load_dataset(tiny_config())
  fit(tiny_config(epochs=4), dataset, tmp_path / "straight")
  fit(tiny_config(epochs=2), dataset, tmp_path / "resumed")
  fit(tiny_config(epochs=4), dataset, tmp_path / "resumed")
  a, meta_a = latest_state(tmp_path / "straight", tiny_config())
  b, meta_b = latest_state(tmp_path / "resumed", tiny_config())
  assert int(a.epoch) == int(b.epoch) == 4
  for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  drop = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]
  assert drop(meta_a["histories"][0]) == drop(meta_b["histories"][0])


def test_workdir_with_other_model_is_refused(tmp_path):
  config = tiny_config(epochs=1)
  fit(config, load_dataset(config), tmp_path)
  other = tiny_config(epochs=1)
  other.model.hidden_sizes = (5, 5)
  with pytest.raises(workdir_lib.WorkdirError, match=r"model\.hidden_sizes"):
    fit(other, load_dataset(other), tmp_path)


def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
  config = tiny_config(epochs=1)
  dataset = load_dataset(config)
  fit(config, dataset, tmp_path)
  dataset.train["x"][3, 0, 1] = np.nan  # A selector channel: fresh noise redraws channel 0.
  record = workdir_lib.read_json(tmp_path / "dataset.json")
  del record["fingerprint"]  # else the changed data are refused (test_resume.py checks that)
  workdir_lib.write_json_atomic(tmp_path / "dataset.json", record)
  with pytest.raises(TrainingError, match=r"Non-finite loss at epoch 2, step \d+"):
    fit(tiny_config(epochs=2), dataset, tmp_path)
  state, _ = latest_state(tmp_path, config)
  assert int(state.epoch) == 1
  assert all(np.isfinite(np.asarray(leaf)).all() for leaf in jax.tree_util.tree_leaves(state.params))


def test_uniform_sampler_sees_every_example_once():
  data = {"x": jnp.zeros((10, 2)), "y": jnp.zeros(10)}
  index, weight = sampling.uniform(jax.random.PRNGKey(0), data, 4)
  assert index.shape == weight.shape == (3, 4)
  counted = np.bincount(np.asarray(index).ravel(), weights=np.asarray(weight).ravel(), minlength=10)
  np.testing.assert_array_equal(counted, np.ones(10))


class TinyBatchNorm(nn.Module):
  @nn.compact
  def __call__(self, x, *, train, mask=None):
    m = None if mask is None else mask[:, None]
    x = nn.BatchNorm(use_running_average=not train, momentum=0.0)(x, mask=m)
    return nn.Dense(1)(x)


def test_padding_examples_change_neither_loss_nor_batch_statistics():
  model, task = TinyBatchNorm(), regression.Regression()
  opt = optim.build_optimizer(config_file.load(LSTM_FILTER).optim)
  x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
  y = np.random.default_rng(1).normal(size=(4, 1)).astype(np.float32)
  state = engine.init_state(jax.random.PRNGKey(0), model, opt, x, "min")
  key = jax.random.PRNGKey(1)
  real = {"x": x[:3], "y": y[:3], "weight": jnp.ones(3)}
  padded = {"x": np.concatenate([x[:3], 1e6 * np.ones((1, 3), np.float32)]), "y": y,
            "weight": jnp.array([1.0, 1.0, 1.0, 0.0])}
  s_real, (sums_real, total_real, _) = engine.train_step(model, task, opt, state, real, key)
  s_pad, (sums_pad, total_pad, _) = engine.train_step(model, task, opt, state, padded, key)
  np.testing.assert_allclose(sums_pad["loss"] / total_pad, sums_real["loss"] / total_real, rtol=1e-6)
  np.testing.assert_allclose(s_pad.batch_stats["BatchNorm_0"]["mean"], x[:3].mean(0), rtol=1e-5)
  np.testing.assert_allclose(s_pad.batch_stats["BatchNorm_0"]["var"], x[:3].var(0), rtol=1e-4)
  for a, b in zip(jax.tree_util.tree_leaves(s_real.params), jax.tree_util.tree_leaves(s_pad.params)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)

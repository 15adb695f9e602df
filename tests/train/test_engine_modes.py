"""config.train.stepping and config.train.runs: the epoch scanned in one program or stepped from the host,
a study's runs batched (vmap) or one after another in the program (sequential), give the same runs."""

from __future__ import annotations

import jax
import ml_collections
import numpy as np
import pytest

from conftest import load_config
from research.train import TrainingError, engine, loop

META = {"class_names": ["a", "b", "c"], "input_shape": [30, 2]}


def _split(n, seed):
  rng = np.random.default_rng(seed)
  return {"x": rng.normal(size=(n, 30, 2)).astype(np.float32), "y": (np.arange(n) % 3).astype(np.int32)}


def _config(stepping, epochs=3, **overrides):
  """The smoke InceptionTime with the matmul convolution in both modes (the same model, two programs).

  Not XLA's: its gradient inside `lax.scan` sums in another order than in a lone step (Adam's first
  steps, about lr * sign(gradient), blow that round-off on near-zero gradients up to 1e-3)."""
  return load_config("inception_time", train__stepping=stepping, train__epochs=epochs, model__conv="matmul",
                     **overrides)


def _train(stepping, seeds=(0, 1), train=None, checkpoint_dir=None, own_data=False, **overrides):
  """Runs of `seeds` on one training split, or with `own_data` each on its own (as a study's folds)."""
  train = _split(12, 0) if train is None else train
  runs = [loop.RunSpec(seed=s, train=_split(12, 10 + s) if own_data else train, val=_split(8, 1)) for s in seeds]
  return loop.train_many(_config(stepping, **overrides), META, runs, checkpoint_dir=checkpoint_dir, log=None)


def _leaves(results):
  return [np.asarray(leaf) for r in results for leaf in jax.tree_util.tree_leaves((r.variables, r.last_variables))]


def _histories(results, drop=("seconds",)):
  return [[{k: v for k, v in row.items() if k not in drop} for row in r.history] for r in results]


@pytest.mark.parametrize("seeds", [(0,), (0, 1)], ids=["one_run", "two_runs"])
def test_host_stepping_trains_as_the_scanned_epoch(seeds):
  # SGD: Adam's first steps (about lr * sign(gradient)) would turn round-off into lr-sized moves.
  sgd = {"optim__name": "sgd", "optim__lr": 0.05}
  scan, host = _train("scan", seeds, epochs=1, **sgd), _train("host", seeds, epochs=1, **sgd)
  # Different XLA programs: equal up to float reassociation, which BatchNorm over batches of 4 grows
  # (largest differences seen: 3e-5 in the weights, 1.1e-5 in the history's gradient norm).
  for a, b in zip(_leaves(scan), _leaves(host)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
  for a, b in zip(_histories(scan), _histories(host)):
    assert [row["epoch"] for row in a] == [row["epoch"] for row in b]
    for row_a, row_b in zip(a, b):
      for key in row_a:
        np.testing.assert_allclose(row_a[key], row_b[key], rtol=1e-4, atol=1e-4, err_msg=key)


def test_host_stepping_trains_runs_on_their_own_data_as_each_alone():
  # Host stepping steps each run apart, slicing its data (a study's folds) from the stacked runs.
  sgd = {"optim__name": "sgd", "optim__lr": 0.05}  # as the test above: the lone runs reuse its programs
  together = _train("host", (0, 1), epochs=1, own_data=True, **sgd)
  for seed, run in zip((0, 1), together):
    alone = _train("host", (seed,), train=_split(12, 10 + seed), epochs=1, **sgd)
    for a, b in zip(_leaves([run]), _leaves(alone)):
      np.testing.assert_array_equal(a, b)
    assert _histories([run]) == _histories(alone)


@pytest.mark.parametrize("layout", ["sequential", "vmap"])
def test_runs_in_one_program_train_as_each_alone(layout):
  # Each run on its own data (a study's folds), the scanned epoch; one run alone is the plain program.
  sgd = {"optim__name": "sgd", "optim__lr": 0.05}
  together = _train("scan", (0, 1), epochs=1, own_data=True, train__runs=layout, **sgd)
  for seed, run in zip((0, 1), together):
    alone = _train("scan", (seed,), train=_split(12, 10 + seed), epochs=1, **sgd)
    if layout == "sequential":  # the same computation: equal to the bit
      for a, b in zip(_leaves([run]), _leaves(alone)):
        np.testing.assert_array_equal(a, b)
      assert _histories([run]) == _histories(alone)
      continue
    for a, b in zip(_leaves([run]), _leaves(alone)):  # batched products sum in another order
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    for row_a, row_b in zip(*_histories([run]), *_histories(alone)):
      for key in row_a:
        np.testing.assert_allclose(row_a[key], row_b[key], rtol=1e-4, atol=1e-4, err_msg=key)


def test_auto_computes_runs_one_after_another_on_cpu_only():
  assert engine.resolve_runs("auto", "cpu") == "sequential"
  assert engine.resolve_runs("auto", "gpu") == "vmap"
  assert engine.resolve_runs("vmap", "cpu") == "vmap"
  assert engine.resolve_runs("sequential", "tpu") == "sequential"
  with pytest.raises(ValueError, match="config.train.runs"):
    engine.resolve_runs("parallel", "cpu")
  config = load_config("tcn")
  assert loop.components(config, {"class_names": ["a"], "input_shape": [30, 25]}).runs == "sequential"
  del config.train["runs"]  # an older config: vmapped, as before the field existed
  assert loop.components(config, {"class_names": ["a"], "input_shape": [30, 25]}).runs == "vmap"


def test_host_stepping_resumes_bit_for_bit(tmp_path):
  straight = _train("host", checkpoint_dir=tmp_path / "straight", epochs=4)
  _train("host", checkpoint_dir=tmp_path / "resumed", epochs=2)
  resumed = _train("host", checkpoint_dir=tmp_path / "resumed", epochs=4)
  for a, b in zip(_leaves(straight), _leaves(resumed)):
    np.testing.assert_array_equal(a, b)
  assert _histories(straight) == _histories(resumed)


def test_stopped_runs_stop_at_the_same_epoch_in_both_modes():
  # Monitoring the falling validation loss for a maximum: no later epoch improves, every run stops.
  stop = {"train__mode": "max", "train__early_stopping__enabled": True, "train__early_stopping__patience": 1}
  scan, host = _train("scan", epochs=5, **stop), _train("host", epochs=5, **stop)
  assert [r.stopped_epoch for r in host] == [r.stopped_epoch for r in scan]
  assert all(0 < r.stopped_epoch < 5 for r in host)
  assert [r.best_epoch for r in host] == [r.best_epoch for r in scan]
  assert [len(r.history) for r in host] == [len(r.history) for r in scan]


def test_nonfinite_loss_stops_host_stepping_at_the_step_scan_names():
  train = _split(12, 0)
  train["x"][5, 3, 1] = np.nan
  messages = []
  for stepping in ("scan", "host"):
    with pytest.raises(TrainingError, match=r"Non-finite loss at epoch 1, step \d+") as error:
      _train(stepping, train=train)
    messages.append(str(error.value))
  assert messages[0] == messages[1]


def _model_config(name, conv=None):
  config = ml_collections.ConfigDict({"name": name})
  if conv is not None:
    config.conv = conv
  return config


def test_auto_steps_from_the_host_on_cpu_for_xla_convolutions_only():
  resolve = engine.resolve_stepping
  for family in engine.HOST_FAMILIES_ON_CPU:
    assert resolve("auto", _model_config(family, "auto"), "cpu") == ("host", "xla")
    assert resolve("auto", _model_config(family, "auto"), "gpu") == ("scan", "auto")
    assert resolve("auto", _model_config(family, "matmul"), "cpu") == ("scan", "matmul")
  assert resolve("auto", _model_config("hht_cnn", "auto"), "cpu") == ("scan", "auto")
  assert resolve("auto", _model_config("tcn", "auto"), "cpu") == ("scan", "auto")
  assert resolve("auto", _model_config("tcn", "xla"), "cpu") == ("host", "xla")
  assert resolve("auto", _model_config("lstm_regressor"), "cpu") == ("scan", None)
  assert resolve("host", _model_config("lstm_regressor"), "gpu") == ("host", None)
  assert resolve("scan", _model_config("inception_time", "auto"), "cpu") == ("scan", "auto")
  with pytest.raises(ValueError, match="config.train.stepping"):
    resolve("loop", _model_config("tcn", "auto"), "cpu")


def test_components_build_what_auto_picks(monkeypatch):
  config = load_config("inception_time")
  built = loop.components(config, META)
  assert (built.stepping, built.model.conv) == ("host", "xla")
  assert config.model.conv == "auto"  # the config itself is left as written
  del config.train["stepping"]  # an older config: the scanned epoch, as before the field existed
  built = loop.components(config, META)
  assert (built.stepping, built.model.conv) == ("scan", "auto")
  monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
  built = loop.components(load_config("inception_time"), META)
  assert (built.stepping, built.model.conv) == ("scan", "auto")

"""Tests share JAX's persistent compilation cache (research.compile_cache), so a program that many
tests compile (the smoke configs' steps) is compiled once per machine.

Fixtures shared by the export tests: `smoke_family` (a model family's smoke config and input
shape) and `conv_net` (a small classifier)."""

import pathlib

import pytest

from research import compile_cache

compile_cache.enable()


# Model families at their smoke configs, shared by the export tests:
# name -> (config file, variant, overrides, input shape per example).
SMOKE_FAMILIES = {
    "lstm_filter": ("lstm_filter", "smoke", {"data.duration": 0.2, "model.hidden_sizes": (4, 4)}, (50, 5)),
    "sign_lstm": ("sign_lstm", "smoke", {}, (10, 1662)),
    "maxcrnn": ("maxcrnn", "smoke", {}, (256, 1)),
    "tcn": ("tcn", "smoke", {}, (30, 25)),
    "inception_time": ("inception_time", "smoke", {}, (30, 2)),
}


@pytest.fixture
def smoke_family():
  """family -> (its smoke config for one epoch, input shape per example); see SMOKE_FAMILIES."""
  from research import config_file
  configs = pathlib.Path(__file__).resolve().parents[1] / "configs"

  def load(family):
    file, variant, overrides, _ = SMOKE_FAMILIES[family]
    config = config_file.load(configs / f"{file}.py:{variant}")
    config.train.epochs = 1
    for dotted, value in overrides.items():
      group, key = dotted.split(".")
      config[group][key] = value
    return config, SMOKE_FAMILIES[family][3]

  return load


@pytest.fixture
def conv_net():
  """A small Conv/BatchNorm/Dense classifier over (B, T, C), 3 classes (a linen Module)."""
  from flax import linen as nn

  class ConvNet(nn.Module):
    num_classes: int = 3

    @nn.compact
    def __call__(self, x, *, train: bool, mask=None):
      h = nn.relu(nn.Conv(16, (5,), padding="SAME")(x))
      h = nn.BatchNorm(use_running_average=not train)(h)
      h = nn.relu(nn.Dense(64)(h.mean(1)))
      return nn.Dense(self.num_classes)(h)

  return ConvNet()

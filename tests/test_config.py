"""Configs load, override from the command line, and reject misspelt keys."""

import pathlib
import subprocess
import sys

import pytest
from absl import flags
from ml_collections import config_flags

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse(path, *overrides):
  """Parses a command line as launch/train.py does (override flags come from argv)."""
  argv = ["prog", f"--config={path}", *overrides]
  values = flags.FlagValues()
  config_flags.DEFINE_config_file("config", None, "", flag_values=values, lock_config=True,
                                  sys_argv=argv)
  values(argv)
  return values.config


def test_variant_and_override():
  config = parse(f"{ROOT}/configs/lstm_filter.py:smoke", "--config.optim.lr=0.01",
                 "--config.model.hidden_sizes=(8,8)")
  assert config.optim.lr == 0.01
  assert tuple(config.model.hidden_sizes) == (8, 8)
  assert config.train.epochs == 2


def test_misspelt_key_is_an_error():
  with pytest.raises((flags.Error, AttributeError), match="learning_rate"):
    parse(f"{ROOT}/configs/lstm_filter.py", "--config.optim.learning_rate=0.01")


def test_unknown_variant_names_the_valid_ones():
  with pytest.raises(flags.Error, match="smoke"):
    parse(f"{ROOT}/configs/lstm_filter.py:tiny")


def test_train_launcher_exits_nonzero_on_unknown_model(tmp_path):
  result = subprocess.run(
      [sys.executable, str(ROOT / "launch/train.py"), f"--config={ROOT}/configs/lstm_filter.py:smoke",
       "--config.model.name=lstmm", f"--workdir={tmp_path}"],
      capture_output=True, text=True, cwd=ROOT, timeout=300)
  assert result.returncode != 0
  assert "lstmm" in result.stderr and "lstm_regressor" in result.stderr


def test_shared_defaults_take_overrides_and_reject_unknown_fields():
  from research import config_defaults

  train = config_defaults.train(epochs=3, plateau={"patience": 2})
  assert (train.epochs, train.plateau.patience, train.plateau.factor) == (3, 2, 0.5)
  with pytest.raises(ValueError, match=r"config.train.early_stopping has no field\(s\) \['patiense'\]"):
    config_defaults.train(early_stopping={"patiense": 3})
  with pytest.raises(ValueError, match="config.optim"):
    config_defaults.optim(learning_rate=0.1)

"""Configs load, override from the command line, and reject misspelt keys."""

import pathlib

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


def test_an_unknown_model_is_refused_with_the_valid_names():
  import ml_collections
  from research.models import MODELS, build_model
  with pytest.raises(ValueError, match="Unknown model 'lstmm'") as refused:
    build_model(ml_collections.ConfigDict({"name": "lstmm"}), {})
  assert all(name in str(refused.value) for name in MODELS)


@pytest.mark.parametrize("field,value,message", [
    ("model.name", "lstmm", "Unknown model 'lstmm'"),
    ("train.stepping", "sideways", r"config.train.stepping is 'sideways'; it must be one of \['auto', 'scan',"),
    ("train.runs", "parallel", r"config.train.runs is 'parallel'; it must be one of \['auto', 'vmap',"),
    ("model.conv", "fft", "config.model.conv must be one of .* 'fft'"),
])
def test_check_config_refuses_before_anything_is_written(field, value, message):
  from research.train import check_config
  config = parse(f"{ROOT}/configs/inception_time.py:smoke")
  group, name = field.split(".")
  config[group][name] = value
  with pytest.raises(ValueError, match=message):
    check_config(config)
  check_config(parse(f"{ROOT}/configs/inception_time.py:smoke"))  # the config as shipped passes


def test_shared_defaults_take_overrides_and_reject_unknown_fields():
  from research import config_defaults

  train = config_defaults.train(epochs=3, plateau={"patience": 2})
  assert (train.epochs, train.plateau.patience, train.plateau.factor) == (3, 2, 0.5)
  with pytest.raises(ValueError, match=r"config.train.early_stopping has no field\(s\) \['patiense'\]"):
    config_defaults.train(early_stopping={"patiense": 3})
  with pytest.raises(ValueError, match="config.optim"):
    config_defaults.optim(learning_rate=0.1)


def test_base_supplies_the_shared_groups_and_one_variant_check():
  from research import config_defaults

  config = config_defaults.base(seed=7, variant="smoke", variants=("smoke",), file="configs/x.py",
                                eval_split="val", cv={"group_by": ""})
  assert (config.seed, config.eval.split, config.cv.seed, config.cv.folds, config.cv.group_by) == (7, "val", 7, 5, "")
  assert config.mesh.to_dict() == config_defaults.mesh().to_dict()
  with pytest.raises(ValueError, match=r"Unknown variant 'tiny' of configs/x.py; valid: smoke, full"):
    config_defaults.base(seed=0, variant="tiny", variants=("smoke", "full"), file="configs/x.py")


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.py")), ids=lambda p: p.stem)
def test_every_config_is_built_on_the_base_with_a_short_docstring(path):
  import ast

  from research import config_file

  config = config_file.load(path)
  assert {"seed", "eval", "cv", "mesh"} <= set(config.keys()), "build the config on config_defaults.base"
  doc = ast.get_docstring(ast.parse(path.read_text()))
  assert "python launch/" in doc and "Reach" in doc and "Time" in doc, "say the command, the reach and a time"
  assert len(doc.splitlines()) <= 16, "keep measured figures in benchmarks/results.md, not in the config"


def test_cli_maps_every_error_to_one_exit_code():
  from research import cli, config_check, distributed
  from research.data.errors import DataError
  from research.errors import ResearchError

  def code(error):
    return next(c for types, c in cli.exit_codes() if isinstance(error, types))

  assert code(config_check.ConfigError("x")) == 2
  assert code(distributed.MeshError("x")) == 2
  assert [code(e) for e in (ResearchError("x"), DataError("x"), ValueError("x"), FileNotFoundError("x"),
                            KeyError("x"))] == [1] * 5


def test_baseline_sees_the_configs_data_folds_and_mesh():
  from research import config_file
  from research.studies import common

  config = config_file.load(ROOT / "configs/maxcrnn.py:smoke")
  forest = config_file.load(ROOT / "configs/random_forest.py")
  aligned = common.baseline_for(config, forest, log=None)
  for group in ("data", "cv", "mesh"):
    assert aligned[group].to_dict() == config[group].to_dict(), group
  assert forest.cv.folds == 5, "the given baseline is not changed"
  assert common.baseline_for(config, config, log=None) is None, "a config is not its own baseline"


def test_distributed_imports_nothing_from_train():
  import ast

  tree = ast.parse((ROOT / "research/distributed.py").read_text())
  imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
  imported += [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
  assert not [m for m in imported if m.startswith("research.train")], imported

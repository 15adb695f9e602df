"""scikit-learn estimators over the configs: any config trained through the one run path.

    clf = Classifier("minirocket", random_state=0).fit(X_train, y_train)
    clf.predict(X_test); clf.predict_proba(X_test)
    GridSearchCV(Classifier("inception_time:smoke"), {"optim__lr": [1e-3, 1e-2]}).fit(X, y)

`config` is a config name (`configs/<name>.py`, with `:variant`) or a path; every other
keyword is a config field written with double underscores (`train__epochs=200` sets
config.train.epochs), so get_params/set_params/clone and grid searches see config fields as
ordinary parameters. `random_state` is config.seed (None keeps the config's).

Input as the field's libraries take it: a (cases, channels, time) array (aeon's layout), a
(cases, time) array (univariate), a list of (channels, time) arrays of unequal lengths, or an
aeon pandas frame (multi-indexed (case, time) rows, or nested cells). Missing values (NaN) are
interpolated and unequal lengths padded with a mask, as the file readers do.

`fit` builds the Dataset the way the readers do (the config's validation fraction, split seed
and normalisation), then calls `research.train.fit` (what launch/train.py calls) in a temporary
workdir that is read back into memory and deleted: fitting writes nothing. The run's files stay
in memory, so `save(workdir)` writes the ordinary workdir that predict.py, evaluate.py and
export.py take (its data as `dataset.npz`, config.data.name "arrays"), and `load` reads any
classifier workdir back as a fitted estimator.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import pathlib
import shutil
import tempfile

import ml_collections
import numpy as np
from scipy import sparse
from sklearn import base as sklearn_base
from sklearn.utils import multiclass
from sklearn.utils import validation as sklearn_validation

from research import config_file
from research import workdir as workdir_lib
from research.data import arrays as arrays_lib
from research.data import dataset as dataset_lib
from research.data import sequences as seq_lib
from research.data import splits as splits_lib
from research.data.errors import DataError

CONFIGS_DIR = pathlib.Path(__file__).resolve().parent.parent / "configs"
DATA_FILE = "dataset.npz"
_OWN_PARAMS = ("config", "random_state", "verbose")


def load_config(config: str) -> ml_collections.ConfigDict:
  """The config named by 'minirocket', 'minirocket:smoke', a path 'configs/x.py[:variant]', or a
  run workdir (its config.json: what `Classifier.load` records)."""
  if (pathlib.Path(config) / "config.json").is_file():
    return ml_collections.ConfigDict(workdir_lib.read_json(pathlib.Path(config) / "config.json"))
  file, sep, variant = str(config).partition(":")
  if not file.endswith(".py"):
    named = CONFIGS_DIR / f"{file}.py"
    if not named.is_file():
      known = sorted(p.stem for p in CONFIGS_DIR.glob("*.py")) if CONFIGS_DIR.is_dir() else []
      raise ValueError(f"config={config!r}: no config named {file!r} in {CONFIGS_DIR}; valid names: {known}, "
                       "or give a path such as 'configs/minirocket.py:smoke'")
    file = str(named)
  return config_file.load(f"{file}{sep}{variant}")


def apply_overrides(config: ml_collections.ConfigDict, overrides: dict) -> None:
  """Sets `group__field=value` overrides on `config` in place; a misspelt field is a ValueError."""
  for key, value in overrides.items():
    parts = key.split("__")
    node = config
    for depth, part in enumerate(parts):
      if not isinstance(node, ml_collections.ConfigDict) or part not in node:
        valid = sorted(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
        where = ".".join(["config"] + parts[:depth])
        raise ValueError(f"{key}={value!r}: {where} has no field {part!r}; valid: {valid}. Write config "
                         "fields with double underscores, e.g. optim__lr=1e-3 for config.optim.lr")
      if depth < len(parts) - 1:
        node = node[part]
    try:
      node[parts[-1]] = list(value) if isinstance(value, tuple) and isinstance(node[parts[-1]], list) else value
    except (TypeError, ValueError) as error:
      raise ValueError(f"{key}={value!r}: config.{'.'.join(parts)} holds {node[parts[-1]]!r}; "
                       f"the value does not fit it ({error})") from error


def _seed(random_state) -> int | None:
  if random_state is None:
    return None
  if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
    return int(random_state)
  if isinstance(random_state, np.random.RandomState):
    return int(random_state.randint(np.iinfo(np.int32).max))
  raise ValueError(f"random_state must be None, an int or a numpy RandomState; found {random_state!r}")


# ---- input: the field's layouts -> (T, C) float32 sequences --------------------------------------------


def _from_pandas(X) -> list[np.ndarray]:
  import pandas as pd
  if isinstance(X.index, pd.MultiIndex):  # aeon's pd-multiindex: (case, time) rows, one column per channel
    return [group.to_numpy(np.float64) for _, group in X.groupby(level=0, sort=False)]
  if len(X.columns) and all(isinstance(v, pd.Series) for v in X.iloc[0]):  # nested: one Series per cell
    return [np.stack([np.asarray(cell, np.float64) for cell in row], axis=1) for row in X.itertuples(index=False)]
  return list(X.to_numpy(np.float64)[:, :, None])  # a plain table: one univariate series per row


def _numeric(array: np.ndarray, where: str) -> np.ndarray:
  """`array` as numbers; scikit-learn's wording for complex, non-numeric and empty input."""
  if array.dtype.kind == "O":
    try:
      array = array.astype(np.float64)
    except (TypeError, ValueError) as error:
      raise TypeError(f"{where}: every value must be a real number ({error})") from error
  if array.dtype.kind == "c":
    raise ValueError(f"{where}: Complex data not supported; give real-valued series")
  if array.dtype.kind not in "fiub":
    raise DataError(f"{where}: series must be numbers; found dtype {array.dtype}. Convert X to floats "
                    "(NaN for missing values)", "wrong_dtype")
  if array.ndim >= 2 and array.shape[-1] == 0:
    raise DataError(f"{where}: 0 feature(s) (shape={array.shape}) while a minimum of 1 is required: the cases "
                    "have no time step", "empty")
  return array


def as_sequences(X) -> list[np.ndarray]:
  """X in any accepted layout -> one (T_i, C) float32 array per case (channels last, as the Dataset)."""
  if sparse.issparse(X):
    raise TypeError("X: sparse input is not supported; give a dense array of series")
  if hasattr(X, "iloc"):
    series = _from_pandas(X)
  elif isinstance(X, np.ndarray) or (not isinstance(X, (list, tuple)) and hasattr(X, "__array__")):
    X = _numeric(np.asarray(X), "X")
    if X.ndim == 2:
      series = list(X[:, :, None])
    elif X.ndim == 3:
      series = list(np.swapaxes(X, 1, 2))
    else:
      raise DataError(f"X: expected (cases, channels, time) or (cases, time); found shape {X.shape}. "
                      "Reshape your data (X[None] is one series), or give a list of (channels, time) arrays", "wrong_shape")
  elif isinstance(X, (list, tuple)):
    series = []
    for i, case in enumerate(X):
      case = _numeric(np.asarray(case), f"X[{i}]")
      if case.ndim == 1:
        case = case[None]
      if case.ndim != 2:
        raise DataError(f"X[{i}]: expected a (channels, time) or (time,) array; found shape {case.shape}",
                        "wrong_shape")
      series.append(case.T)
  else:
    raise DataError(f"X: expected a numpy array, a list of (channels, time) arrays or a pandas frame; "
                    f"found {type(X).__name__}", "wrong_format")
  if not series:
    raise DataError("X holds no case; give at least one series", "empty")
  channels = {s.shape[1] for s in series}
  if len(channels) > 1:
    raise DataError(f"X: cases have different channel counts {sorted(channels)}; every case needs the same "
                    "channels", "channel_mismatch")
  if min(len(s) for s in series) == 0:
    raise DataError("X: a case has no time step; remove it", "empty")
  return [np.asarray(s, np.float32) for s in series]


def _examples(X, y) -> tuple[dict, dict]:
  """(padded examples with `x`, `mask` and `y` as given, meta) for the training cases."""
  series, missing = seq_lib.clean(as_sequences(X), "X")
  y = np.asarray(y)
  if y.ndim == 0 or len(y) != len(series):
    raise DataError(f"y: expected one target per case ({len(series)}); found shape {y.shape}", "length_mismatch")
  x, mask = seq_lib.pad(series)
  meta = {"source": "in-memory arrays (research.estimators)", "feature_layout": {"format": "array",
          "num_features": int(x.shape[2])}, "num_features": int(x.shape[2]), "max_length": int(x.shape[1]),
          "length_range": [int(min(map(len, series))), int(max(map(len, series)))],
          "missing_values": missing, "skipped": []}
  return {"x": x, "mask": mask, "y": y}, meta


def _zscore_cases(x, mask) -> np.ndarray:
  """Each case z-scored per channel over its own valid frames (padding stays 0)."""
  valid = mask[:, :, None]
  count = np.maximum(valid.sum(1, keepdims=True), 1)
  mean = np.where(valid, x, 0).sum(1, keepdims=True) / count
  std = np.sqrt((np.where(valid, x - mean, 0) ** 2).sum(1, keepdims=True) / count)
  return np.where(valid, (x - mean) / np.maximum(std, 1e-6), 0).astype(np.float32)


def _normalize_cases(examples: dict, meta: dict, mode: str) -> str:
  """Applies config.data.normalize='window' (each case on its own, as the sEMG reader does) to
  `examples` and records it in meta; returns the mode left for the training-split statistics."""
  if mode != "window":
    return mode
  examples["x"] = _zscore_cases(examples["x"], examples["mask"])
  meta["normalize_cases"] = "zscore"
  return "none"


def _files(workdir: pathlib.Path) -> dict[str, bytes]:
  """Every file of a run workdir, by its path inside it: what `save` writes back."""
  return {str(p.relative_to(workdir)): p.read_bytes() for p in sorted(workdir.rglob("*")) if p.is_file()}


# ---- the estimators ------------------------------------------------------------------------------------


class _ConfigEstimator(sklearn_base.BaseEstimator):
  """What both estimators share: config fields as parameters, the run path, save and load."""

  _task: str = ""

  def __init__(self, config: str = "minirocket", random_state=None, verbose: bool = False, **overrides):
    self.config = config
    self.random_state = random_state
    self.verbose = verbose
    self._overrides = dict(overrides)

  # scikit-learn's parameters: the three above plus every override, by its double-underscore name.
  def get_params(self, deep: bool = True) -> dict:
    del deep
    return {"config": self.config, "random_state": self.random_state, "verbose": self.verbose,
            **self._overrides}

  def set_params(self, **params):
    for key, value in params.items():
      if key in _OWN_PARAMS:
        setattr(self, key, value)
      else:  # a config field; checked against the config at fit (build_config)
        self._overrides[key] = value
    return self

  def __sklearn_tags__(self):
    tags = super().__sklearn_tags__()
    tags.input_tags.allow_nan = True  # missing values are interpolated, as the readers do
    tags.input_tags.three_d_array = True
    tags.non_deterministic = False
    return tags

  def build_config(self) -> ml_collections.ConfigDict:
    """The config this estimator trains: file, variant, overrides and random_state applied."""
    config = load_config(self.config)
    apply_overrides(config, self._overrides)
    seed = _seed(self.random_state)
    with config.unlocked():
      if seed is not None:
        config.seed = seed
      if config.task.name != self._task:
        raise ValueError(f"config={self.config!r} trains a {config.task.name!r} task; {type(self).__name__} "
                         f"needs a {self._task!r} config")
      config.data.name = "arrays"  # the data are the arrays given to fit (saved as dataset.npz)
      config.data.path = ""
      if "eval" not in config:
        config.eval = ml_collections.ConfigDict()
      config.eval.split = "train"  # the report at fit time: there is no held-out split
    return config

  def _dataset(self, config, X, y) -> dataset_lib.Dataset:
    raise NotImplementedError

  def fit(self, X, y):
    """Trains the config on (X, y) through research.train.fit; keeps the run in memory."""
    from research.train import fit as train_fit
    if y is None:
      raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
    config = self.build_config()
    dataset = self._dataset(config, X, y)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="research-estimator-"))
    try:
      with contextlib.ExitStack() as stack:
        if not self.verbose:
          stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        train_fit(config, dataset, workdir)  # augments inside, as for launch/train.py
      (workdir / DATA_FILE).write_bytes(arrays_lib.to_bytes(dataset))
      self._read_workdir(workdir)
      self.files_ = _files(workdir)
    finally:
      shutil.rmtree(workdir, ignore_errors=True)
    return self

  def _read_workdir(self, workdir) -> None:
    from research.train import load_run
    self.run_ = load_run(workdir)
    self.run_.workdir = None
    self.config_ = self.run_.config
    self.n_channels_ = int(self.run_.meta["input_shape"][-1])

  def _batch(self, X) -> dict:
    """X prepared as the run's data were (missing values, standardisation), padded to at least the
    training length (a mask marks the padding)."""
    meta = self.run_.meta
    series = [seq_lib.fill_missing(s, f"X case {i}")[0] for i, s in enumerate(as_sequences(X))]
    expected = int(meta["input_shape"][-1])
    if series[0].shape[1] != expected:
      raise ValueError(f"X has {series[0].shape[1]} channels, but this estimator was fitted on {expected}; "
                       "give series with the fitted channels")
    length = max(int(meta["input_shape"][0]), max(len(s) for s in series))
    x, mask = seq_lib.pad(series, length)
    if meta.get("normalize_cases") == "zscore":
      x = _zscore_cases(x, mask)
    if meta.get("standardize"):
      x = seq_lib.standardize(x, mask, meta["standardize"])
    return {"x": x, "mask": mask}

  def save(self, workdir, X_test=None, y_test=None) -> pathlib.Path:
    """Writes the fitted run as an ordinary workdir (predict.py, evaluate.py, export.py take it).

    With (X_test, y_test) its data get that test split, which evaluate.py and export.py then use
    by default (without it: give them --split train).
    """
    sklearn_validation.check_is_fitted(self, "files_")
    workdir = pathlib.Path(workdir)
    if workdir.exists() and any(workdir.iterdir()):
      raise workdir_lib.WorkdirError(f"{workdir} is not empty; save into a new folder")
    for name, blob in self.files_.items():
      workdir_lib.write_bytes_atomic(workdir / name, blob)
    data_path = str((workdir / DATA_FILE).resolve())
    edits = [("report.json", lambda d: d.update(workdir=str(workdir)))]
    if DATA_FILE in self.files_:  # fitted here: its data are the stored arrays (a loaded run keeps its own)
      edits.append(("config.json", lambda d: d["data"].update(path=data_path)))
    if X_test is not None:
      if DATA_FILE not in self.files_:
        raise ValueError(f"X_test: this estimator was loaded from a workdir whose data are {self.config_.data.name!r} "
                         "files, not stored arrays; save it without X_test")
      edits.append(("config.json", lambda d: d["eval"].update(split="test")))  # the tools' default split
      self._store_test_split(workdir, X_test, y_test)
    for name, edit in edits:
      if (workdir / name).exists():
        record = workdir_lib.read_json(workdir / name)
        edit(record)
        workdir_lib.write_json_atomic(workdir / name, record)
    return workdir

  def _store_test_split(self, workdir: pathlib.Path, X_test, y_test) -> None:
    dataset = arrays_lib.load(ml_collections.ConfigDict({"path": str(workdir / DATA_FILE)}), 0)
    batch = self._batch(X_test)
    length = dataset.train["x"].shape[1]
    if batch["x"].shape[1] > length:
      raise DataError(f"X_test: series of {batch['x'].shape[1]} steps are longer than the {length} the estimator "
                      "was fitted on; a saved workdir stores one length (predict takes any)", "wrong_shape")
    y = self._encode_targets(y_test, len(batch["x"]))
    dataset = dataclasses.replace(dataset, test={"x": batch["x"], "mask": batch["mask"], "y": y})
    workdir_lib.write_bytes_atomic(workdir / DATA_FILE, arrays_lib.to_bytes(dataset))
    record = workdir_lib.read_json(workdir / "dataset.json")
    record.update(sizes=dataset.sizes(), fingerprint=dataset.fingerprint())
    workdir_lib.write_json_atomic(workdir / "dataset.json", record)

  @classmethod
  def load(cls, workdir):
    """A fitted estimator from any run workdir of this estimator's task."""
    workdir = pathlib.Path(workdir)
    estimator = cls(config=str(workdir))
    estimator._read_workdir(workdir)
    if estimator.config_.task.name != cls._task:
      raise ValueError(f"{workdir} holds a {estimator.config_.task.name!r} run; {cls.__name__} loads "
                       f"{cls._task!r} runs")
    estimator.files_ = _files(workdir)
    return estimator

  # Pickling keeps the run's files, not its JAX objects; unpickling reads them back.
  def __getstate__(self):
    state = dict(self.__dict__)
    for key in ("run_", "config_"):
      state.pop(key, None)
    return state

  def __setstate__(self, state):
    self.__dict__.update(state)
    if "files_" in state:
      workdir = pathlib.Path(tempfile.mkdtemp(prefix="research-estimator-"))
      try:
        for name, blob in self.files_.items():
          (workdir / name).parent.mkdir(parents=True, exist_ok=True)
          (workdir / name).write_bytes(blob)
        self._read_workdir(workdir)
      finally:
        shutil.rmtree(workdir, ignore_errors=True)


class Classifier(sklearn_base.ClassifierMixin, _ConfigEstimator):
  """Any classification config as a scikit-learn classifier (see the module docstring)."""

  _task = "classification"

  def _dataset(self, config, X, y) -> dataset_lib.Dataset:
    examples, meta = _examples(X, y)
    y = sklearn_validation.column_or_1d(examples["y"], warn=True)
    multiclass.check_classification_targets(y)
    self.classes_, examples["y"] = np.unique(y, return_inverse=True)
    examples["y"] = examples["y"].astype(np.int32)
    meta["class_names"] = [str(c) for c in self.classes_.tolist()]
    data = config.data
    normalize = _normalize_cases(examples, meta, data.get("normalize", "none"))
    empty = {k: v[:0] for k, v in examples.items()}
    dataset = splits_lib.classification_splits(
        examples, meta, test=empty, test_fraction=0.0, val_fraction=data.get("val_fraction", 0.15),
        seed=splits_lib.split_seed(data, config.seed), normalize=normalize, where="X, y")
    dataset.meta["test_split"] = "none: the estimator is scored on what it is given to predict"
    return dataset

  def _read_workdir(self, workdir) -> None:
    super()._read_workdir(workdir)
    if not hasattr(self, "classes_") or len(self.classes_) != len(self.run_.meta["class_names"]):
      self.classes_ = np.asarray(self.run_.meta["class_names"])

  def _encode_targets(self, y, count: int) -> np.ndarray:
    y = sklearn_validation.column_or_1d(np.asarray(y))
    index = {c: i for i, c in enumerate(self.classes_.tolist())}
    unknown = sorted({str(v) for v in y.tolist() if v not in index})
    if len(y) != count or unknown:
      raise DataError(f"y_test: expected {count} labels among the fitted classes {self.classes_.tolist()}; found "
                      f"{len(y)}" + (f", unknown {unknown[:5]}" if unknown else ""), "bad_labels")
    return np.array([index[v] for v in y.tolist()], np.int32)

  def predict_proba(self, X) -> np.ndarray:
    """(cases, classes) probabilities, columns in `classes_` order; rows sum to 1."""
    sklearn_validation.check_is_fitted(self, "run_")
    outputs = self.run_.predict(self._batch(X))
    probs = np.asarray(outputs["probs"], np.float64)
    return probs / probs.sum(1, keepdims=True)

  def predict(self, X) -> np.ndarray:
    probs = self.predict_proba(X)
    return self.classes_[probs.argmax(1)]


class Regressor(sklearn_base.RegressorMixin, _ConfigEstimator):
  """Any regression config as a scikit-learn regressor; `y` shaped like the model's output per case."""

  _task = "regression"

  def __init__(self, config: str = "lstm_filter", random_state=None, verbose: bool = False, **overrides):
    super().__init__(config=config, random_state=random_state, verbose=verbose, **overrides)

  def _dataset(self, config, X, y) -> dataset_lib.Dataset:
    examples, meta = _examples(X, y)
    y = np.asarray(examples["y"])
    if y.dtype.kind not in "fiub" or not np.isfinite(y.astype(np.float64)).all():
      raise DataError("y: regression targets must be finite numbers", "bad_targets")
    examples["y"] = y.astype(np.float32)
    data = config.data
    fraction = float(data.get("val_fraction", 0.15))
    seed = splits_lib.split_seed(data, config.seed)
    if fraction > 0:
      train, val = splits_lib.random_split(examples, fraction, seed)
    else:
      train, val = examples, {k: v[:0] for k, v in examples.items()}
    normalize = _normalize_cases(examples, meta, data.get("normalize", "none"))
    if normalize != "none":
      stats = seq_lib.standardize_stats(train["x"], train["mask"], normalize)
      for split in (train, val):
        split["x"] = seq_lib.standardize(split["x"], split["mask"], stats)
      meta["standardize"] = stats
    meta["test_split"] = "none: the estimator is scored on what it is given to predict"
    return dataset_lib.Dataset(train=train, val=val, test={k: v[:0] for k, v in train.items()}, meta=meta)

  def _encode_targets(self, y, count: int) -> np.ndarray:
    y = np.asarray(y, np.float32)
    if len(y) != count:
      raise DataError(f"y_test: expected {count} targets; found {len(y)}", "length_mismatch")
    return y

  def predict(self, X) -> np.ndarray:
    sklearn_validation.check_is_fitted(self, "run_")
    return np.asarray(self.run_.predict(self._batch(X))["value"])

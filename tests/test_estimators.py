"""research.estimators: scikit-learn estimators over the configs, on the same run path as launch/train.py."""

import json

import numpy as np
import pytest
from sklearn import base as sklearn_base
from sklearn import metrics
from sklearn import model_selection
from sklearn import pipeline
from sklearn import preprocessing
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import ROOT, run_script
from research import config_file
from research import estimators
from research.data import load_dataset
from research.data import dataset as dataset_lib
from research.data import splits
from research.data.errors import DataError
from research.studies import cv as cv_lib
from research.train import fit as train_fit
from research.train import load_run
from research.train import validation


def _motions(cases=40, length=40, channels=3, seed=0):
  """Equal-length (cases, channels, time) series of 3 string-labelled classes (frequency differs)."""
  rng = np.random.default_rng(seed)
  y = np.array(["jump", "run", "walk"])[np.arange(cases) % 3]
  t = np.arange(length)
  freq = {"jump": 0.05, "run": 0.12, "walk": 0.25}
  X = np.stack([np.sin(2 * np.pi * freq[label] * t + rng.uniform(0, 6, (channels, 1))) for label in y])
  return (X + rng.normal(0, 2.0, X.shape)).astype(np.float32), y


def _log_loss(y_true, probs, labels):
  """The classification report's loss: mean -log p(true class), clipped at 1e-12."""
  index = np.searchsorted(labels, y_true)
  return float(-np.log(np.clip(probs[np.arange(len(y_true)), index], 1e-12, 1.0)).mean())


@pytest.mark.slow
def test_cross_val_score_equals_the_configs_own_cv_fold_by_fold(tmp_path):
  """cross_validate on the folds research/studies/cv.py draws gives its accuracy and loss per fold.

  The config CV draws its folds itself (StratifiedKFold(shuffle, cv.seed), a validation part,
  trimmed to equal sizes) and takes no fold indices, so scikit-learn gets the examples each CV
  run trains on, read from the library's own fold specs and validation plan (an `index` key rides
  along). For MiniRocket (no network, validation "none") these are train + val + val today: the
  fold specs merge val into train and the validation plan merges it again.
  """
  from aeon.datasets import load_arrow_head
  X, y = load_arrow_head(split="train")  # 36 cases, 1 channel, 251 steps, read from the aeon package
  classes = np.unique(y)
  x_NTC = np.ascontiguousarray(np.swapaxes(X, 1, 2), np.float32)
  split = {"x": x_NTC, "y": np.searchsorted(classes, y).astype(np.int32), "mask": np.ones(x_NTC.shape[:2], bool)}
  empty = {k: v[:0] for k, v in split.items()}
  dataset = dataset_lib.Dataset(train=split, val=empty, test=empty, meta={"class_names": classes.tolist()})
  config = config_file.load(str(ROOT / "configs/minirocket.py"))
  result = cv_lib.run_cv(config, dataset, tmp_path, folds=3, log=None)
  settings = cv_lib.settings(config)
  pool = splits.cv_pool(dataset, str(settings.group_by))
  folds = splits.make_folds(pool, 3, int(settings.seed), float(settings.val_fraction))
  part = lambda f, name: {"y": pool["y"][folds[f][name]], "index": folds[f][name]}
  specs = cv_lib._fold_specs(config, part, len(folds))
  trained_on = [validation.plan(config, s.train, s.val).train["index"] for s in specs]
  for index, fold in zip(trained_on, folds):  # every train and val example of the fold, each once
    np.testing.assert_array_equal(np.sort(index), np.sort(np.concatenate([fold["train"], fold["val"]])))
  fold_splits = [(index, f["test"]) for index, f in zip(trained_on, folds)]
  loss = metrics.make_scorer(_log_loss, response_method="predict_proba", labels=classes)
  scores = model_selection.cross_validate(estimators.Classifier("minirocket"), X, y, cv=fold_splits,
                                          scoring={"accuracy": "accuracy", "loss": loss})
  (rows,) = [m["folds"] for m in result["models"].values()]
  np.testing.assert_allclose(scores["test_accuracy"], [r["accuracy"] for r in rows], atol=1e-12)
  np.testing.assert_allclose(scores["test_loss"], [r["loss"] for r in rows], rtol=1e-5)
  assert min(r["loss"] for r in rows) > 0  # a loss of 0 everywhere would make the comparison vacuous


def test_same_numbers_as_the_launch_train_path(tmp_path):
  """The estimator on a config's own training arrays predicts what launch/train.py's run predicts."""
  overrides = {"data__synthetic__min_length": 30}  # equal lengths: no padding difference between the two
  config = config_file.load(str(ROOT / "configs/minirocket.py:smoke"))
  estimators.apply_overrides(config, overrides)
  dataset = load_dataset(config)
  train_fit(config, dataset, tmp_path / "run")
  run = load_run(tmp_path / "run")
  names = np.asarray(dataset.meta["class_names"])
  to_X = lambda split: np.swapaxes(split["x"], 1, 2)
  clf = estimators.Classifier("minirocket:smoke", **overrides).fit(to_X(dataset.train), names[dataset.train["y"]])
  expected = run.predict(dataset.test)["probs"]
  columns = [list(clf.classes_).index(n) for n in names]  # the estimator's columns follow sorted labels
  np.testing.assert_allclose(clf.predict_proba(to_X(dataset.test))[:, columns], expected, atol=1e-6)
  loaded = estimators.Classifier.load(tmp_path / "run")  # a workdir launch/train.py wrote
  np.testing.assert_array_equal(loaded.classes_, names)
  np.testing.assert_allclose(loaded.predict_proba(to_X(dataset.test)), expected, atol=1e-6)
  copy = loaded.save(tmp_path / "copy")
  assert json.loads((copy / "config.json").read_text())["data"] == json.loads(
      (tmp_path / "run" / "config.json").read_text())["data"]  # its own data, not stored arrays


@pytest.fixture(scope="module")
def fitted():
  X, y = _motions()
  return estimators.Classifier("minirocket:smoke", random_state=3).fit(X, y), X, y


def test_predict_proba_and_classes_follow_scikit_learn(fitted):
  clf, X, y = fitted
  np.testing.assert_array_equal(clf.classes_, np.unique(y))
  probs = clf.predict_proba(X)
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)
  np.testing.assert_array_equal(clf.predict(X), clf.classes_[probs.argmax(1)])
  assert clf.score(X, y) > 0.9
  assert clf.config_.seed == 3  # random_state is the config's seed
  files = dict(clf.files_)
  clf.predict(X[:5])
  assert clf.files_ == files  # predicting changes nothing


def test_fit_twice_same_predictions_and_seed_matters(fitted):
  clf, X, y = fitted
  again = sklearn_base.clone(clf).fit(X, y)
  np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
  other = sklearn_base.clone(clf).set_params(random_state=4).fit(X, y)
  assert not np.array_equal(other.predict_proba(X), clf.predict_proba(X))  # channel combinations moved


def test_params_are_config_fields():
  clf = estimators.Classifier("inception_time:smoke", train__epochs=3, random_state=1)
  assert clf.get_params() == {"config": "inception_time:smoke", "random_state": 1, "verbose": False,
                              "train__epochs": 3}
  copy = sklearn_base.clone(clf.set_params(optim__lr=0.01))
  assert copy.get_params()["optim__lr"] == 0.01
  config = copy.build_config()
  assert (config.train.epochs, config.optim.lr, config.seed) == (3, 0.01, 1)
  with pytest.raises(ValueError, match=r"config.optim has no field 'lrr'; valid: \[.*'lr'"):
    estimators.Classifier("inception_time", optim__lrr=1).build_config()
  with pytest.raises(ValueError, match="no config named 'minirocke'"):
    estimators.Classifier("minirocke").build_config()
  with pytest.raises(ValueError, match="needs a 'regression' config"):
    estimators.Regressor("minirocket").build_config()


def test_bad_input_is_a_clear_error(fitted):
  clf, X, y = fitted
  with pytest.raises(DataError, match="one target per case"):
    sklearn_base.clone(clf).fit(X, y[:-1])
  with pytest.raises(ValueError, match="X has 2 channels, but this estimator was fitted on 3"):
    clf.predict(X[:, :2])
  with pytest.raises(DataError, match="infinite"):
    sklearn_base.clone(clf).fit(np.where(np.arange(X.shape[2]) == 5, np.inf, X), y)


def test_unequal_length_list_and_2d_and_pandas_input(fitted):
  clf, X, y = fitted
  rng = np.random.default_rng(1)
  ragged = [x[:, :rng.integers(25, 41)] for x in X]  # (channels, time) of unequal lengths
  fitted_ragged = sklearn_base.clone(clf).fit(ragged, y)
  short = [x[:, :30] for x in X[:6]]
  probs = fitted_ragged.predict_proba(short)
  # Cases no longer than the training series are padded to the training length, alone or together.
  np.testing.assert_allclose(fitted_ragged.predict_proba(short[:1]), probs[:1], atol=1e-6)
  assert fitted_ragged.predict([np.pad(X[0], ((0, 0), (0, 20)), mode="edge")]).shape == (1,)
  univariate = sklearn_base.clone(clf).fit(X[:, 0], y)  # (cases, time)
  assert univariate.n_channels_ == 1
  import pandas as pd
  index = pd.MultiIndex.from_product([range(len(X)), range(X.shape[2])])
  frame = pd.DataFrame(np.swapaxes(X, 1, 2).reshape(-1, X.shape[1]), index=index)
  np.testing.assert_array_equal(clf.predict_proba(frame), clf.predict_proba(X))


def test_pipeline_and_grid_search_over_a_config_field():
  X, y = _motions(cases=24)
  scaled = pipeline.Pipeline([("scale", preprocessing.FunctionTransformer(lambda x: 2.0 * x)),
                              ("clf", estimators.Classifier("minirocket:smoke"))])
  assert scaled.fit(X, y).score(X, y) > 0.9
  assert scaled.get_params()["clf__config"] == "minirocket:smoke"
  search = model_selection.GridSearchCV(estimators.Classifier("minirocket:smoke"),
                                        {"features__num_features": [168, 840]}, cv=2, error_score="raise")
  search.fit(X, y)
  assert search.best_params_["features__num_features"] in (168, 840)
  assert len(search.cv_results_["mean_test_score"]) == 2
  assert search.best_estimator_.config_.features.num_features == search.best_params_["features__num_features"]


@pytest.mark.slow
def test_save_then_predict_py_and_load_give_the_same_predictions(fitted, tmp_path):
  clf, X, _ = fitted
  workdir = clf.save(tmp_path / "run")
  np.save(tmp_path / "x.npy", np.swapaxes(X[:7], 1, 2))  # predict.py reads (cases, time, channels)
  run_script("launch/predict.py", "--workdir", str(workdir), "--input", str(tmp_path / "x.npy"),
             "--output", str(tmp_path / "p.json"), "--cpu", check=True)
  rows = json.loads((tmp_path / "p.json").read_text())["predictions"]
  expected = clf.predict_proba(X[:7])
  np.testing.assert_allclose([[r["probs"][str(c)] for c in clf.classes_] for r in rows], expected, atol=1e-5)
  assert [r["label"] for r in rows] == list(clf.predict(X[:7]))
  loaded = estimators.Classifier.load(workdir)
  np.testing.assert_allclose(loaded.predict_proba(X[:7]), expected, atol=1e-6)
  assert load_dataset(loaded.config_).fingerprint() == json.loads((workdir / "dataset.json").read_text())["fingerprint"]
  with pytest.raises(Exception, match="not empty"):
    clf.save(workdir)


def test_pickle_round_trip(fitted):
  import pickle
  clf, X, _ = fitted
  copy = pickle.loads(pickle.dumps(clf))
  np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))


@pytest.mark.slow
def test_saved_workdir_evaluates_and_exports(fitted, tmp_path):
  clf, _, _ = fitted
  X_test, y_test = _motions(cases=12, seed=5)
  workdir = clf.save(tmp_path / "run", X_test, y_test)
  run_script("launch/evaluate.py", "--workdir", str(workdir), check=True)  # the test split saved with the run
  report = json.loads((workdir / "report.json").read_text())
  assert (report["split"], report["num_examples"]) == ("test", 12)
  assert report["accuracy"] == pytest.approx(clf.score(X_test, y_test))
  run_script("launch/export.py", "--workdir", str(workdir), "--notflm", "--parity_examples", "8", check=True)
  assert json.loads((workdir / "export.json").read_text())["parity_split"] == "test"
  assert (workdir / "model.tflite").is_file()
  with pytest.raises(DataError, match="unknown"):
    clf.save(tmp_path / "other", X_test, np.where(y_test == "run", "swim", y_test))


@pytest.mark.slow
def test_grid_search_over_the_learning_rate_of_a_network():
  X, y = _motions(cases=24, length=30)
  search = model_selection.GridSearchCV(estimators.Classifier("inception_time:smoke", train__ensemble=1),
                                        {"optim__lr": [1e-3, 1e-2]}, cv=2, error_score="raise").fit(X, y)
  assert search.best_params_["optim__lr"] in (1e-3, 1e-2)
  assert search.best_estimator_.config_.optim.lr == search.best_params_["optim__lr"]


@pytest.mark.slow
def test_regressor_on_a_regression_config():
  rng = np.random.default_rng(0)
  X = rng.normal(size=(32, 5, 20)).astype(np.float32)
  y = np.cumsum(X[:, :1], axis=2).transpose(0, 2, 1)  # per-step targets (cases, time, 1), as the LSTM outputs
  reg = estimators.Regressor("lstm_filter:smoke", random_state=0).fit(X, y)
  prediction = reg.predict(X)
  assert prediction.shape == y.shape
  np.testing.assert_array_equal(estimators.Regressor("lstm_filter:smoke", random_state=0).fit(X, y).predict(X),
                                prediction)


# MiniRocket's kernels span 9 steps; scikit-learn's check data are 2-D tables of 1-5 columns, which the
# estimators read as (cases, time) series of 1-5 steps, so these checks stop at MiniRocket's length error.
_TOO_SHORT_FOR_MINIROCKET = [
    "check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_train",
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_estimators_dtypes",
    "check_estimators_fit_returns_self", "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_supervised_y_2d"]
_NO_N_FEATURES_IN = ("a case is (channels, time) and time may differ between fit and predict, so there is no "
                     "fixed n_features_in_ (n_channels_ holds the channel count)")


def _expected_failed_checks(estimator):
  failed = {"check_n_features_in": _NO_N_FEATURES_IN, "check_n_features_in_after_fitting": _NO_N_FEATURES_IN}
  if estimator.config.startswith("minirocket"):
    failed.update({name: "check data are series of 1-5 steps; MiniRocket needs 9 (it raises a ValueError "
                         "that says so)" for name in _TOO_SHORT_FOR_MINIROCKET if name not in failed})
  else:
    failed["check_classifiers_train"] = ("the table columns become time steps, and the forest's time-domain "
                                         "features (MAV, RMS, WL, ZC) do not tell the check's blobs apart")
  return failed


@pytest.mark.slow
@parametrize_with_checks([estimators.Classifier("minirocket:smoke"), estimators.Classifier("random_forest:smoke")],
                         expected_failed_checks=_expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
  check(estimator)

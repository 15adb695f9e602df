"""The classifier chosen by cross-validation on the training split (configs/auto.py).

Each candidate (config.auto.candidates: names in configs/, with an optional `:variant`, or config
file paths) takes the auto config's `seed`, `data`, `eval`, `cv` and `mesh` groups, so every
candidate reads the same data and is cross-validated (research.studies.cv) on the same folds of
the training split alone: train + val, the test split left out before any fold is drawn. The
highest mean CV accuracy wins; equal means go to the candidate listed first. The winner then
trains on the whole training split as an ordinary run in the workdir itself (research.train.fit),
so launch/evaluate.py, predict.py and export.py take that workdir as any other.

Workdir: auto/ (the auto config and the training split's fingerprint), auto/<candidate>/ (its
cv_report.json/.md), the winner's run (config.json, head/, report.json/.md, ...) and
auto_report.json/.md: every candidate's CV score (mean, 95% t-interval, per fold, pooled, the
chance level) beside the winner's test score and its trivial baselines. Re-running the command
resumes: a candidate whose cv_report.json is written is read back, not cross-validated again; a
changed auto config or other training data are refused, naming the change.
"""

from __future__ import annotations

import copy
import pathlib
import re

from research import config_file
from research import workdir as workdir_lib
from research import workdir_lock
from research.config_check import ConfigError
from research.data import dataset as dataset_lib
from research.studies import common
from research.studies import cv as cv_lib
from research.train import fit

CONFIGS = pathlib.Path(__file__).resolve().parents[2] / "configs"  # where candidate names are looked up
SHARED_GROUPS = ("data", "eval", "cv", "mesh")  # the auto config's groups every candidate takes
STUDY = "auto"  # workdir/auto: the auto config and each candidate's CV
TIE_RULE = "equal mean CV accuracies go to the candidate listed first in config.auto.candidates"
TIE = 1e-9  # means closer than this are equal (a sum of the same fold scores in another order may differ in ulps)
TEST_KEYS = ("accuracy", "accuracy_interval_95", "interval_method", "num_examples", "chance_level", "majority_rate",
             "majority_class", "p_value_vs_chance", "p_value_vs_majority", "better_than_chance",
             "better_than_majority", "macro_avg")  # the winner's report numbers auto_report keeps


def candidate_names(config) -> list[str]:
  """config.auto.candidates ('minirocket,quant:smoke,...') as a list; empty or repeated names refused."""
  names = [name.strip() for name in str(config.auto.candidates).split(",") if name.strip()]
  if not names:
    raise ConfigError("config.auto.candidates is empty; name configs to choose from, e.g. "
                      "--config.auto.candidates=minirocket,quant,multirocket_hydra")
  repeated = sorted({name for name in names if names.count(name) > 1})
  if repeated:
    raise ConfigError(f"config.auto.candidates names {repeated} more than once; list each config once")
  return names


def candidate_path(name: str) -> str:
  """'quant:smoke' -> '<checkout>/configs/quant.py:smoke'; a path ending in .py is kept."""
  file, _, variant = name.partition(":")
  if not file.endswith(".py"):
    file = str(CONFIGS / f"{file}.py")
  return file + (f":{variant}" if variant else "")


def candidates(config) -> dict[str, object]:
  """{name: candidate config} in the order listed, each with the auto config's shared groups."""
  out = {}
  for name in candidate_names(config):
    path = candidate_path(name)
    if not pathlib.Path(path.partition(":")[0]).is_file():
      valid = ", ".join(sorted(p.stem for p in CONFIGS.glob("*.py") if p.stem != "auto"))
      raise ConfigError(f"config.auto.candidates: {name!r} is no config ({path.partition(':')[0]} does not "
                        f"exist); valid names: {valid}, or a config file path")
    candidate = config_file.load(path)
    if "auto" in candidate:
      raise ConfigError(f"config.auto.candidates: {name!r} is itself an automatic choice; list plain configs")
    if candidate.get("task", {}).get("name") != "classification":
      raise ConfigError(f"config.auto.candidates: {name!r} is a {candidate.task.name!r} config; the automatic "
                        "choice picks among classifiers")
    with candidate.unlocked():
      candidate.seed = config.seed
      for group in SHARED_GROUPS:
        candidate[group] = copy.deepcopy(config[group])
    out[name] = candidate
  return out


def training_only(dataset: dataset_lib.Dataset) -> dataset_lib.Dataset:
  """`dataset` with an empty test split: what the choice may see (CV pools train + val)."""
  empty = dataset_lib.take(dataset.test, slice(0, 0))
  return dataset_lib.Dataset(train=dataset.train, val=dataset.val, test=empty, meta=dataset.meta)


def choose(means: dict[str, float]) -> str:
  """The name with the highest mean CV accuracy; equal means go to the first listed (TIE_RULE)."""
  best = None
  for name, mean in means.items():
    if best is None or mean > means[best] + TIE:
      best = name
  return best


def _folder(name: str) -> str:
  return re.sub(r"[^\w.-]+", "_", name)


def _cross_validate(name: str, config, training: dataset_lib.Dataset, study: pathlib.Path, log) -> dict:
  """The candidate's cv_report (read back when already written for this config and data)."""
  directory = common.study_dir(study, _folder(name), config, training)
  done = directory / "cv_report.json"
  if done.is_file():
    if log:
      log(f"auto: {name}: cross-validation read back from {done}")
    return workdir_lib.read_json(done)
  if log:
    log(f"auto: cross-validating {name} on the training split")
  return cv_lib.run_cv(config, training, directory, baseline_config=None, log=log)


def _candidate_row(name: str, report: dict) -> dict:
  (model, scores), = report["models"].items()
  return {"name": name, "config": candidate_path(name), "model": model, "accuracy": scores["accuracy"],
          "macro_f1": scores["macro_f1"]["mean"], "per_fold": [row["accuracy"] for row in scores["folds"]],
          "pooled": scores["pooled"], "cv_report": str(pathlib.Path(STUDY) / _folder(name) / "cv_report.md")}


@workdir_lock.locks_workdir
def run_auto(config, dataset: dataset_lib.Dataset | None, workdir, log=print) -> dict:
  """Cross-validates every candidate on the training split, trains the best into `workdir`.

  `dataset`: the auto config's data when the caller has them (read here when None); only its
  train and val splits reach the choice. Writes auto_report.json, auto_report.md and
  plots/auto_cv_scores.png beside the winner's run; returns the auto report.
  """
  configs = candidates(config)
  common.check(*configs.values())
  dataset = common.dataset_of(config, dataset)
  workdir = pathlib.Path(workdir)
  training = training_only(dataset)
  study = common.study_dir(workdir, STUDY, config, training)
  reports = {name: _cross_validate(name, cfg, training, study, log) for name, cfg in configs.items()}
  rows = [_candidate_row(name, reports[name]) for name in configs]
  winner = choose({row["name"]: row["accuracy"]["mean"] for row in rows})
  if log:
    log(f"auto: chose {winner}; training it on the whole training split")
  test = fit(configs[winner], dataset, workdir)
  first = next(iter(reports.values()))
  result = {"chosen": winner, "tie_rule": TIE_RULE, "metric": "accuracy", "folds": first["folds"],
            "cv_seed": first["seed"], "pool_size": first["pool_size"],
            "cv_baseline": first["baseline"], "cv_baseline_name": first["baseline_name"],
            "candidates": rows, "test_split": config.eval.split,
            "test": {key: test[key] for key in TEST_KEYS if key in test}, "model": test.get("model")}
  result["verdicts"] = _verdicts(result)
  plot = common.bar_plot(workdir / "plots" / "auto_cv_scores.png", [r["name"] for r in rows],
                         [r["accuracy"]["mean"] for r in rows], [r["accuracy"]["std"] for r in rows],
                         result["cv_baseline"], f"{result['folds']}-fold CV accuracy on the training split",
                         baseline_name=result["cv_baseline_name"])
  result["plots"] = [str(pathlib.Path(plot).relative_to(workdir))]
  workdir_lib.write_json_atomic(workdir / "auto_report.json", result)
  workdir_lib.write_text_atomic(workdir / "auto_report.md", markdown(result))
  return result


def _verdicts(r: dict) -> list[str]:
  chosen = next(row for row in r["candidates"] if row["name"] == r["chosen"])
  s, t = chosen["accuracy"], r["test"]
  lo, hi = t["accuracy_interval_95"]
  out = [f"Chosen: {r['chosen']} ({chosen['model']}), the highest mean {r['folds']}-fold CV accuracy on the "
         f"training split ({s['mean']:.3f} +- {s['std']:.3f}); {r['tie_rule']}.",
         f"Its {r['test_split']} accuracy, trained on the whole training split: {t['accuracy']:.4f} "
         f"[{lo:.3f}, {hi:.3f}] ({t['num_examples']} examples); chance {t['chance_level']:.3f}, majority class "
         f"{t['majority_rate']:.3f}: " + ("better than the majority class" if t["better_than_majority"]
                                          else "NOT better than the majority class") +
         f" (p = {t['p_value_vs_majority']:.3g}).",
         f"The {r['test_split']} split chose nothing: the folds hold only the {r['pool_size']} training examples."]
  close = [row["name"] for row in r["candidates"] if row is not chosen
           and row["accuracy"]["interval_95"][1] >= s["interval_95"][0]
           and s["interval_95"][1] >= row["accuracy"]["interval_95"][0]]
  if close:
    out.append(f"The CV intervals of {', '.join(close)} overlap the chosen one's: on these folds the ranking "
               "is not settled.")
  weak = [row["name"] for row in r["candidates"] if not row["pooled"]["better_than_baseline"]]
  if weak:
    out.append(f"NOT better than {r['cv_baseline_name']} ({r['cv_baseline']:.3f}) in CV: {', '.join(weak)}.")
  return out


def markdown(r: dict) -> str:
  from research.evaluation import markdown as md
  t = r["test"]
  lines = [f"# Automatic choice: {md.escape(r['chosen'])}", "",
           *[f"- {md.escape(v)}" for v in r["verdicts"]], "",
           f"CV: {r['folds']} folds (seed {r['cv_seed']}) over the {r['pool_size']} training examples, each fold "
           f"held out once (research/studies/cv.py); trivial baseline {r['cv_baseline_name']} {r['cv_baseline']:.3f}. "
           f"Test: chance {t['chance_level']:.3f}, majority class {t['majority_rate']:.3f}.", "",
           f"| candidate | model | CV accuracy mean +- std | 95% t-interval | per fold | pooled [95% Wilson] | "
           f"{r['test_split']} accuracy |", "|---|---|---|---|---|---|---|"]
  for row in r["candidates"]:
    s, pooled = row["accuracy"], row["pooled"]
    chosen = row["name"] == r["chosen"]
    name = f"**{md.escape(row['name'])}** (chosen)" if chosen else md.escape(row["name"])
    test = f"{t['accuracy']:.4f} [{t['accuracy_interval_95'][0]:.3f}, {t['accuracy_interval_95'][1]:.3f}]" \
        if chosen else "- (not trained on it)"
    lines.append(f"| {name} | {md.escape(row['model'])} | {s['mean']:.3f} +- {s['std']:.3f} | "
                 f"[{s['interval_95'][0]:.3f}, {s['interval_95'][1]:.3f}] | "
                 f"{', '.join(f'{v:.3f}' for v in row['per_fold'])} | {pooled['value']:.3f} "
                 f"[{pooled['interval_95'][0]:.3f}, {pooled['interval_95'][1]:.3f}] | {test} |")
  lines += ["", "Each candidate's CV report: " + ", ".join(f"{row['cv_report']}" for row in r["candidates"])
            + ". The chosen run's report: report.md (launch/evaluate.py, predict.py and export.py take this "
            "workdir).", "", *[md.image(p) for p in r.get("plots", [])]]
  return "\n".join(lines) + "\n"

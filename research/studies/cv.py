"""K-fold cross-validation of any config (and a baseline config) on the same folds.

Folds over the CV pool (the source domain, train + val, when the data have a
target domain; otherwise every example):
- classification: StratifiedKFold(K, shuffle=True, random_state=config.cv.seed);
  StratifiedGroupKFold when `config.cv.group_by` names a key of the data (`subject`
  for leave-subjects-out; "auto", the default, groups windows by `recording`, since
  overlapping windows of one recording on both sides of a fold would leak);
- regression: KFold(K) over contiguous blocks (neighbouring windows overlap).
Each fold's held-out part is its test set; a `config.cv.val_fraction` of the rest
(stratified, or whole groups when the rest holds two or more) is its validation
set (early stopping). Networks
train all folds as one program, which needs equally many training and
validation examples per fold: larger folds are trimmed at random to the
smallest (`trimmed` in the report). A network-free head (the forest) fits on the
fold's train + val examples, since it stops nothing early.

Every config's base (research.config_defaults.base) has a `cv` group: folds 5, seed config.seed,
val_fraction 0.15, group_by auto unless it says otherwise.
Training checkpoints live in workdir/<model>/checkpoints: a CV killed at any
epoch and started again with the same command gives the same cv_report.json.
"""

from __future__ import annotations

import pathlib

import ml_collections
import numpy as np

from research import config_defaults
from research import workdir as workdir_lib
from research import workdir_lock
from research.data import dataset as dataset_lib
from research.data.splits import cv_pool, make_folds
from research.studies import common
from research.train import RunSpec
from research.train import trained as trained_lib
from research.train import validation

def settings(config) -> ml_collections.ConfigDict:
  """config.cv, or the shared defaults (research.config_defaults.cv_group, seed config.seed)."""
  cv = config.get("cv")
  return cv if cv is not None else config_defaults.cv_group(int(config.seed))


def _fold_specs(cfg, split, folds: int) -> list[RunSpec]:
  specs = []
  for f in range(folds):
    train, val = split(f, "train"), split(f, "val")
    # Nothing stops early: the head learns from train + val (once: the validation plan may join them itself).
    if not trained_lib.has_network(cfg) and not validation.joins_training(cfg, len(train["y"])):
      train = dataset_lib.concatenate(train, val)
    specs.append(RunSpec(seed=int(cfg.seed), train=train, val=val))
  return specs


@workdir_lock.locks_workdir
def run_cv(config, dataset: dataset_lib.Dataset | None, workdir, baseline_config=None, folds: int | None = None,
           log=print) -> dict:
  """Cross-validates `config` and `baseline_config` on the same folds.

  The baseline sees exactly the config's data and folds (common.baseline_for);
  `dataset`: the config's data when the caller has them (read here when None).
  Writes cv_report.json, cv_report.md and plots/cv_scores.png in `workdir`.
  """
  common.check(config, baseline_config)
  baseline_config = common.baseline_for(config, baseline_config, log)
  dataset = common.dataset_of(config, dataset)
  workdir = pathlib.Path(workdir)
  cv = settings(config)
  folds = int(folds or cv.folds)
  meta = dataset.meta
  class_names = meta.get("class_names") or []
  pool = cv_pool(dataset, str(cv.get("group_by", "auto")))
  fold_index = make_folds(pool, folds, int(cv.seed), float(cv.val_fraction))
  split = lambda f, part: dataset_lib.take(pool, fold_index[f][part])
  tests = [split(f, "test") for f in range(folds)]
  models, per_example = {}, {}
  metric = None

  for cfg in [config] + ([baseline_config] if baseline_config is not None else []):
    name = common.model_name(cfg)
    name = name if name not in models else f"{name} ({len(models) + 1})"
    directory = common.study_dir(workdir, name.replace("/", "_"), cfg, dataset)
    trained, outputs = common.fit_predict(
        cfg, meta, _fold_specs(cfg, split, folds), [{"test": t} for t in tests],
        checkpoint_dir=directory / "checkpoints" if trained_lib.has_network(cfg) else None, log=log)
    rows, examples, probs = [], [], []
    for f, (t, out) in enumerate(zip(trained, outputs)):
      s = common.score(tests[f], out["test"], class_names)
      metric = s.metric
      row = {"fold": f, "n_test": int(len(tests[f]["y"])), s.metric: s.value, **_fold_extra(s, t)}
      rows.append(row)
      examples.append(s.per_example)
      probs.append(out["test"].get("probs"))
      if log:
        log(f"{name} fold {f}: {s.metric} {s.value:.3f}")
    zero = None if metric == "accuracy" else np.concatenate(
        [common.score(t, {"value": np.zeros_like(np.asarray(t["y"], np.float64))}, class_names).per_example
         for t in tests])
    labels = np.concatenate([t["y"] for t in tests])
    models[name] = {"folds": rows, metric: common.mean_std([r[metric] for r in rows], common.METRIC_RANGE[metric]),
                    "pooled": common.pooled(labels, examples, probs, metric, class_names, zero)}
    if metric == "accuracy":
      models[name]["macro_f1"] = common.mean_std([r["macro_f1"] for r in rows], common.METRIC_RANGE["macro_f1"])
    per_example[name] = np.concatenate(examples)

  names = list(models)
  comparison = None
  if len(names) == 2:
    a, b = names
    diffs = [fa[metric] - fb[metric] for fa, fb in zip(models[a]["folds"], models[b]["folds"])]
    comparison = {"models": names, "difference": common.mean_std(diffs),
                  "p_value_pooled": common.compare_p(per_example[a], per_example[b], metric),
                  "test": "exact McNemar" if metric == "accuracy" else "Wilcoxon signed-rank"}
  first = models[names[0]]["pooled"]
  result = {"folds": folds, "seed": int(cv.seed), "metric": metric, "pool_size": len(pool["y"]),
            "grouped_by": "group" if "group" in pool else None,
            "val_size": len(fold_index[0]["val"]), "train_size": len(fold_index[0]["train"]),
            "trimmed": [f["trimmed"] for f in fold_index], "baseline": first["baseline"],
            "baseline_name": first["baseline_name"], "class_names": list(class_names),
            "models": models, "comparison": comparison}
  result["verdicts"] = _verdicts(result)
  plot = common.bar_plot(workdir / "plots" / "cv_scores.png", names, [models[n][metric]["mean"] for n in names],
                         [models[n][metric]["std"] for n in names], result["baseline"],
                         f"{folds}-fold CV {metric} (mean +- std)", ylabel=metric,
                         baseline_name=result["baseline_name"])
  result["plots"] = [str(pathlib.Path(plot).relative_to(workdir))]
  workdir_lib.write_json_atomic(workdir / "cv_report.json", result)
  workdir_lib.write_text_atomic(workdir / "cv_report.md", markdown(result))
  return result


def _fold_extra(score: common.Score, trained) -> dict:
  extra = {}
  if score.metric == "accuracy":
    extra.update({"accuracy_interval_95": score.details["accuracy_interval_95"],
                  "macro_f1": score.details["macro_avg"]["f1"], "loss": score.details["loss"],
                  "p_value_vs_chance": score.details["p_value_vs_chance"]})
  else:
    extra.update({"zero_prediction_mse": score.details["zero_prediction_mse"]})
  if trained.results:
    r = trained.results[0]
    extra.update({"best_epoch": r.best_epoch, "epochs_trained": len(r.history)})
  head = trained.best.head
  if head is not None and head.fit_info.get("grid_search"):
    extra.update({"best_params": head.fit_info["best_params"], "grid_cv_score": head.fit_info["best_cv_score"]})
  return extra


def _verdicts(r: dict) -> list[str]:
  out, metric = [], r["metric"]
  baseline, base_name = r["baseline"], r["baseline_name"]
  for name, m in r["models"].items():
    s, pooled = m[metric], m["pooled"]
    if pooled["better_than_baseline"]:
      out.append(f"{name}: {metric} {s['mean']:.3f} +- {s['std']:.3f} over folds; pooled over all held-out "
                 f"examples it is better than the {base_name} ({baseline:.3f}), p = "
                 f"{pooled['p_value_vs_baseline']:.3g}.")
    else:
      out.append(f"{name} is NOT better than the {base_name}: {metric} {s['mean']:.3f} +- {s['std']:.3f} over "
                 f"folds vs {baseline:.3f} (pooled p = {pooled['p_value_vs_baseline']:.3g}).")
  comparison = r["comparison"]
  if comparison:
    a, b = comparison["models"]
    d, p = comparison["difference"], comparison["p_value_pooled"]
    if p < 0.05:
      better = a if (d["mean"] > 0) == (metric == "accuracy") else b
      out.append(f"{better} is better: {a} - {b} = {d['mean']:+.3f} +- {d['std']:.3f} {metric} per fold; "
                 f"{comparison['test']} p = {p:.3g}.")
    else:
      out.append(f"No significant difference between {a} and {b}: {d['mean']:+.3f} +- {d['std']:.3f} "
                 f"{metric} per fold; {comparison['test']} p = {p:.3g} >= 0.05.")
  return out


def markdown(r: dict) -> str:
  from research.evaluation import markdown as md
  names, metric = list(r["models"]), r["metric"]
  grouped = " Folds keep each recording/subject whole." if r["grouped_by"] else ""
  lines = [f"# {r['folds']}-fold cross-validation (seed {r['seed']})", "",
           *[f"- {md.escape(v)}" for v in r["verdicts"]], "",
           f"Pool: {r['pool_size']} examples; per fold {r['train_size']} train / {r['val_size']} val "
           f"(early stopping) / the held-out fold as test.{grouped} Trimmed per fold to equalise sizes: "
           f"{r['trimmed']}. Trivial baseline: {r['baseline_name']} {r['baseline']:.3f}.", "",
           f"| model | {metric} mean +- std | 95% t-interval | pooled {metric} [95% interval] |",
           "|---|---|---|---|"]
  for n in names:
    m = r["models"][n]
    a, pooled = m[metric], m["pooled"]
    lo, hi = pooled["interval_95"]
    lines.append(f"| {md.escape(n)} | {a['mean']:.3f} +- {a['std']:.3f} | [{a['interval_95'][0]:.3f}, "
                 f"{a['interval_95'][1]:.3f}] | {pooled['value']:.3f} [{lo:.3f}, {hi:.3f}] "
                 f"({pooled['interval_method']}) |")
  lines += ["", "## Per fold", "", "| fold | n test | " + " | ".join(f"{md.escape(n)} {metric}" for n in names)
            + " |", "|---" * (len(names) + 2) + "|"]
  for f in range(r["folds"]):
    cells = []
    for n in names:
      row = r["models"][n]["folds"][f]
      extra = f" (best epoch {row['best_epoch']})" if "best_epoch" in row else ""
      cells.append(f"{row[metric]:.3f}{extra}")
    lines.append(f"| {f} | {r['models'][names[0]]['folds'][f]['n_test']} | " + " | ".join(cells) + " |")
  lines += ["", *[f"![{pathlib.Path(p).stem}]({p})" for p in r.get("plots", [])]]
  return "\n".join(lines) + "\n"

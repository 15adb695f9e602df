"""Stratified K-fold cross-validation of a neural config and the Random Forest on the same folds.

Folds: StratifiedKFold(K, shuffle=True, random_state=config.cv.seed) over the
CV pool (the source domain, train + val, when the data have a target domain;
otherwise every example). Each fold's held-out part is its test set; a
stratified `config.cv.val_fraction` of the rest is its validation set (early
stopping), equally large in every fold. The neural folds train together as one
vmapped program (research.train.multirun), which needs equally many training
examples per fold: folds with more are trimmed at random to the smallest
(`trimmed` in the report; zero when N is divisible by K and classes balance).
The forest trains on the same train + val examples of each fold.
"""

from __future__ import annotations

import pathlib

import numpy as np
from sklearn import model_selection

from research.data import dataset as dataset_lib
from research.studies import common
from research.train import multirun
from research.train import records


def cv_pool(dataset: dataset_lib.Dataset) -> dict:
  """The examples cross-validation draws its folds from."""
  if dataset.meta.get("split") == "transfer":
    return dataset_lib.concatenate(dataset.train, dataset.val)
  return dataset_lib.concatenate(dataset.train, dataset.val, dataset.test)


def make_folds(pool: dict, folds: int, seed: int, val_fraction: float) -> list[dict]:
  """Per fold: index arrays `train`, `val`, `test` into `pool`, plus `trimmed` (count).

  Test parts are disjoint and cover the pool; train/val sizes are equal across folds.
  """
  y = np.asarray(pool["y"])
  counts = np.bincount(y)
  if counts[counts > 0].min() < folds:
    raise ValueError(f"cv: the smallest class has {counts[counts > 0].min()} examples, fewer than "
                     f"--folds {folds}; lower the folds or add data")
  splitter = model_selection.StratifiedKFold(folds, shuffle=True, random_state=seed)
  parts = [(rest, test) for rest, test in splitter.split(np.zeros(len(y)), y)]
  smallest = min(len(rest) for rest, _ in parts)
  num_val = max(int(round(val_fraction * smallest)), len(counts[counts > 0]))
  rng = np.random.default_rng(seed)
  out = []
  for rest, test in parts:
    train, val = model_selection.train_test_split(
        rest, test_size=num_val, random_state=seed, stratify=y[rest])
    keep = smallest - num_val
    trimmed = len(train) - keep
    if trimmed:
      train = rng.choice(train, keep, replace=False)
    out.append({"train": np.sort(train), "val": np.sort(val), "test": np.sort(test),
                "trimmed": int(trimmed)})
  return out


def _summary(per_fold: list[dict], key: str) -> dict:
  return common.mean_std([f[key] for f in per_fold])


def run_cv(config, dataset: dataset_lib.Dataset, workdir, forest_config=None, folds: int | None = None,
           log=print) -> dict:
  """Cross-validates `config` (neural or forest) and `forest_config` on the same folds.

  Writes cv_report.json, cv_report.md and plots/cv_accuracy.png in `workdir`.
  """
  workdir = pathlib.Path(workdir)
  folds = int(folds or config.cv.folds)
  meta = dataset.meta
  class_names = meta["class_names"]
  pool = cv_pool(dataset)
  fold_index = make_folds(pool, folds, int(config.cv.seed), float(config.cv.val_fraction))
  split = lambda f, part: dataset_lib.take(pool, fold_index[f][part])
  models = {}

  def collect(name, probs_per_fold, extra_per_fold):
    rows, correct_all = [], []
    for f, probs in enumerate(probs_per_fold):
      test = split(f, "test")
      s = common.score(test["y"], probs, class_names)
      correct_all.append(probs.argmax(1) == test["y"])
      rows.append({"fold": f, "n_test": s["num_examples"], "accuracy": s["accuracy"],
                   "accuracy_interval_95": s["accuracy_interval_95"], "macro_f1": s["macro_avg"]["f1"],
                   "loss": s["loss"], "p_value_vs_chance": s["p_value_vs_chance"], **extra_per_fold[f]})
    correct = np.concatenate(correct_all)
    labels = np.concatenate([split(f, "test")["y"] for f in range(folds)])
    pooled = common.score(labels, np.eye(len(class_names))[
        np.concatenate([p.argmax(1) for p in probs_per_fold])], class_names)
    models[name] = {"folds": rows, "accuracy": _summary(rows, "accuracy"),
                    "macro_f1": _summary(rows, "macro_f1"), "loss": _summary(rows, "loss"),
                    "pooled_accuracy": pooled["accuracy"],
                    "pooled_interval_95": pooled["accuracy_interval_95"],
                    "pooled_p_value_vs_chance": pooled["p_value_vs_chance"],
                    "better_than_chance": pooled["better_than_chance"], "_correct": correct}

  configs = [config] + ([forest_config] if forest_config is not None else [])
  for cfg in configs:
    name = cfg.model.name
    if common.is_forest(cfg):
      probs, extra = [], []
      for f in range(folds):
        fit_on = dataset_lib.concatenate(split(f, "train"), split(f, "val"))
        p, info = common.forest_fit_predict(cfg, fit_on, {"test": split(f, "test")}, meta, int(cfg.seed))
        probs.append(p["test"])
        extra.append({"best_params": info.get("best_params"), "grid_cv_score": info.get("best_cv_score")})
        if log:
          log(f"{name} fold {f}: accuracy {float((p['test'].argmax(1) == split(f, 'test')['y']).mean()):.3f}")
      collect(name, probs, extra)
    else:
      from research.data import augment
      train_splits = [augment.static_train_split(cfg, split(f, "train")) for f in range(folds)]
      val_splits = [split(f, "val") for f in range(folds)]
      runs = [multirun.RunSpec(seed=int(cfg.seed), train=t, val=v) for t, v in zip(train_splits, val_splits)]
      results = multirun.train_many(cfg, meta, runs, log=log)
      probs = [np.asarray(multirun.predict(cfg, meta, r.variables, split(f, "test"))["probs"])
               for f, r in enumerate(results)]
      extra = [{"best_epoch": r.best_epoch, "epochs_trained": len(r.history),
                "val_accuracy": next((h.get("val_accuracy") for h in r.history if h["epoch"] == r.best_epoch),
                                     None)}
               for r in results]
      collect(name, probs, extra)

  names = list(models)
  comparison = None
  if len(names) == 2:
    a, b = names
    diffs = [fa["accuracy"] - fb["accuracy"] for fa, fb in zip(models[a]["folds"], models[b]["folds"])]
    comparison = {"models": names, "accuracy_difference": common.mean_std(diffs),
                  "mcnemar_p_pooled": common.mcnemar_p(models[a]["_correct"], models[b]["_correct"])}
  for m in models.values():
    m.pop("_correct")
  chance = 1.0 / len(class_names)
  result = {"folds": folds, "seed": int(config.cv.seed), "pool_size": len(pool["y"]),
            "val_size": len(fold_index[0]["val"]), "train_size": len(fold_index[0]["train"]),
            "trimmed": [f["trimmed"] for f in fold_index], "chance_level": chance,
            "class_names": list(class_names), "models": models, "comparison": comparison,
            "verdicts": _verdicts(models, comparison, chance)}
  plot = common.bar_plot(workdir / "plots" / "cv_accuracy.png", names,
                         [models[n]["accuracy"]["mean"] for n in names],
                         [models[n]["accuracy"]["std"] for n in names], chance,
                         f"{folds}-fold CV accuracy (mean +- std)")
  result["plots"] = [str(pathlib.Path(plot).relative_to(workdir))]
  records.write_json_atomic(workdir / "cv_report.json", result)
  records.write_text_atomic(workdir / "cv_report.md", markdown(result))
  return result


def _verdicts(models, comparison, chance) -> list[str]:
  out = []
  for name, m in models.items():
    acc = m["accuracy"]
    if m["better_than_chance"]:
      out.append(f"{name}: {acc['mean']:.3f} +- {acc['std']:.3f} over folds; pooled over all held-out "
                 f"examples it is better than chance ({chance:.3f}), exact binomial p = "
                 f"{m['pooled_p_value_vs_chance']:.3g}.")
    else:
      out.append(f"{name} is NOT better than chance: {acc['mean']:.3f} +- {acc['std']:.3f} over folds "
                 f"vs chance {chance:.3f} (pooled p = {m['pooled_p_value_vs_chance']:.3g}).")
  if comparison:
    a, b = comparison["models"]
    d, p = comparison["accuracy_difference"], comparison["mcnemar_p_pooled"]
    if p < 0.05:
      better = a if d["mean"] > 0 else b
      out.append(f"{better} is more accurate: {a} - {b} = {d['mean']:+.3f} +- {d['std']:.3f} per fold; "
                 f"McNemar p = {p:.3g}.")
    else:
      out.append(f"No significant difference between {a} and {b}: {d['mean']:+.3f} +- {d['std']:.3f} "
                 f"per fold; McNemar p = {p:.3g} >= 0.05.")
  return out


def markdown(r: dict) -> str:
  names = list(r["models"])
  lines = [f"# {r['folds']}-fold stratified cross-validation (seed {r['seed']})", "",
           *[f"- {v}" for v in r["verdicts"]], "",
           f"Pool: {r['pool_size']} examples; per fold {r['train_size']} train / {r['val_size']} val "
           f"(early stopping) / the held-out fold as test. Trimmed per fold to equalise sizes: "
           f"{r['trimmed']}. Chance level {r['chance_level']:.3f}.", "",
           "| model | accuracy mean +- std | 95% t-interval | macro F1 | pooled accuracy [95% Wilson] |",
           "|---|---|---|---|---|"]
  for n in names:
    m = r["models"][n]
    a, f1 = m["accuracy"], m["macro_f1"]
    lo, hi = m["pooled_interval_95"]
    lines.append(f"| {n} | {a['mean']:.3f} +- {a['std']:.3f} | [{a['interval_95'][0]:.3f}, "
                 f"{a['interval_95'][1]:.3f}] | {f1['mean']:.3f} +- {f1['std']:.3f} | "
                 f"{m['pooled_accuracy']:.3f} [{lo:.3f}, {hi:.3f}] |")
  lines += ["", "## Per fold", "", "| fold | n test | " + " | ".join(f"{n} accuracy" for n in names) + " |",
            "|---" * (len(names) + 2) + "|"]
  for f in range(r["folds"]):
    cells = []
    for n in names:
      row = r["models"][n]["folds"][f]
      extra = f" (best epoch {row['best_epoch']})" if "best_epoch" in row else ""
      cells.append(f"{row['accuracy']:.3f}{extra}")
    lines.append(f"| {f} | {r['models'][names[0]]['folds'][f]['n_test']} | " + " | ".join(cells) + " |")
  lines += ["", *[f"![{pathlib.Path(p).stem}]({p})" for p in r.get("plots", [])]]
  return "\n".join(lines) + "\n"

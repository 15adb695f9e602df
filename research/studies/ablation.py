"""Ablations: vary config fields, train each condition (its seeds in one program), compare to a baseline.

`--vary key=v1,v2` (repeatable; conditions are the product of all values) on
any config field. The first condition is the baseline. Per condition, on
`config.eval.split`: the score (accuracy, or MSE for regression) as the mean over
seeds with its std, a 95% interval of that mean (percentile bootstrap over the
evaluation examples, each example's score averaged over seeds: it stays inside
[0, 1] for an accuracy and needs no more seeds than one), the change vs the
baseline, and a paired test of that change (exact McNemar on the pooled
predictions, Wilcoxon signed-rank for squared errors) when both conditions share
the evaluation set. Each condition trains in workdir/conditions/<i>/ with its
checkpoints, so an ablation killed at any epoch resumes with the same command.
"""

from __future__ import annotations

import copy
import itertools
import pathlib

import numpy as np

from research import workdir as workdir_lib
from research import workdir_lock
from research.data import load_dataset
from research.evaluation import stats
from research.studies import common
from research.train import RunSpec
from research.train import trained as trained_lib


def parse_vary(specs: list[str], config) -> list[tuple[str, list]]:
  """['augment.enabled=true,false'] -> [('augment.enabled', [True, False])] typed by the field."""
  out = []
  for spec in specs:
    if "=" not in spec:
      raise ValueError(f"--vary {spec!r}: expected field=value1,value2 (e.g. augment.enabled=true,false)")
    key, values = spec.split("=", 1)
    current = common.get_field(config, key)
    out.append((key, [common.parse_value(v, current) for v in values.split(",")]))
  return out


def conditions(config, vary) -> list[tuple[str, object]]:
  """(label, config) for every combination of the varied values."""
  keys = [k for k, _ in vary]
  out = []
  for values in itertools.product(*[v for _, v in vary]):
    cfg = copy.deepcopy(config)
    with cfg.unlocked():
      for key, value in zip(keys, values):
        common.set_field(cfg, key, value)
    label = ", ".join(f"{k}={v}" for k, v in zip(keys, values))
    out.append((label, cfg))
  return out


def run_condition(cfg, seeds: list[int], directory=None, log=print) -> dict:
  """Trains one condition (a checked config) for every seed and scores it on config.eval.split."""
  dataset = load_dataset(cfg)
  if directory is not None:
    directory = common.study_dir(pathlib.Path(directory).parent, pathlib.Path(directory).name, cfg, dataset)
  split_name = cfg.eval.split
  split = dataset.split(split_name)
  names = dataset.meta.get("class_names") or []
  specs = [RunSpec(seed=s, train=dataset.train, val=dataset.val) for s in seeds]
  checkpoints = pathlib.Path(directory) / "checkpoints" if directory and trained_lib.has_network(cfg) else None
  trained, outputs = common.fit_predict(cfg, dataset.meta, specs, [{"eval": split}] * len(specs),
                                        checkpoint_dir=checkpoints, log=log)
  scores = [common.score(split, o["eval"], names, split_name) for o in outputs]
  metric = scores[0].metric
  per_example = np.stack([s.per_example for s in scores]).astype(np.float64)  # (S, N)
  summary = common.mean_std([s.value for s in scores])
  summary["interval_95"] = stats.bootstrap_interval(per_example.mean(0))
  summary["interval_method"] = "bootstrap over examples of the seed mean"
  zero = None if metric == "accuracy" else np.concatenate(
      [common.score(split, {"value": np.zeros_like(np.asarray(split["y"], np.float64))}, names).per_example] * len(seeds))
  probs = [o["eval"].get("probs") for o in outputs]
  pooled = common.pooled(np.tile(split["y"], len(seeds)) if metric == "accuracy" else None,
                         list(per_example), probs, metric, names, zero)
  best_epochs = [t.results[0].best_epoch if t.results else None for t in trained]
  return {"metric": metric, "score": summary, "per_seed": [s.value for s in scores], "best_epochs": best_epochs,
          "baseline": pooled["baseline"], "baseline_name": pooled["baseline_name"],
          "p_value_vs_baseline": pooled["p_value_vs_baseline"],
          "better_than_baseline": pooled["better_than_baseline"], "n_eval": int(len(split["y"])),
          "_per_example": per_example, "_labels": np.asarray(split["y"])}


@workdir_lock.locks_workdir
def run_ablation(config, vary_specs: list[str], workdir, seeds: int = 1, log=print) -> dict:
  """Runs every condition; writes ablation.json, ablation.md and plots/ablation.png."""
  workdir = pathlib.Path(workdir)
  vary = parse_vary(vary_specs, config)
  seed_list = [int(config.seed) + i for i in range(seeds)]
  every = conditions(config, vary)
  common.check(*[cfg for _, cfg in every])
  rows = []
  for index, (label, cfg) in enumerate(every):
    if log:
      log(f"condition {label}")
    rows.append({"condition": label,
                 **run_condition(cfg, seed_list, workdir / "conditions" / str(index), log=log)})
  base = rows[0]
  metric = base["metric"]
  for row in rows:
    row["change"] = row["score"]["mean"] - base["score"]["mean"]
    same = row["_labels"].shape == base["_labels"].shape and np.array_equal(row["_labels"], base["_labels"])
    row["change_p_value"] = (common.compare_p(row["_per_example"].ravel(), base["_per_example"].ravel(), metric)
                             if same and row is not base else None)
  for row in rows:
    row.pop("_per_example")
    row.pop("_labels")
  result = {"vary": [{"field": k, "values": v} for k, v in vary], "seeds": seed_list, "metric": metric,
            "split": config.eval.split, "baseline_score": base["baseline"], "baseline_name": base["baseline_name"],
            "reference_condition": base["condition"], "conditions": rows}
  result["verdicts"] = _verdicts(result)
  plot = common.bar_plot(workdir / "plots" / "ablation.png", [r["condition"] for r in rows],
                         [r["score"]["mean"] for r in rows], [r["score"]["std"] for r in rows],
                         base["baseline"], f"Ablation ({config.eval.split} {metric})", ylabel=metric,
                         baseline_name=base["baseline_name"])
  result["plots"] = [str(pathlib.Path(plot).relative_to(workdir))]
  workdir_lib.write_json_atomic(workdir / "ablation.json", result)
  workdir_lib.write_text_atomic(workdir / "ablation.md", markdown(result))
  return result


def _scaled(value: float, metric: str) -> str:
  return f"{100 * value:+.2f} pp" if metric == "accuracy" else f"{value:+.4g}"


def _verdicts(r: dict) -> list[str]:
  out, metric = [], r["metric"]
  for row in r["conditions"]:
    if not row["better_than_baseline"]:
      out.append(f"{row['condition']}: NOT better than the {row['baseline_name']} ({metric} "
                 f"{row['score']['mean']:.3f} vs {row['baseline']:.3f}, p = {row['p_value_vs_baseline']:.3g}).")
  higher_better = metric == "accuracy"
  for row in r["conditions"][1:]:
    p, change = row["change_p_value"], _scaled(row["change"], metric)
    if p is None:
      out.append(f"{row['condition']}: {change} vs the reference condition (different evaluation sets; "
                 "no paired test).")
    elif p < 0.05:
      helps = (row["change"] > 0) == higher_better
      out.append(f"{row['condition']}: {'helps' if helps else 'hurts'}, {change} vs the reference condition "
                 f"(p = {p:.3g}).")
    else:
      out.append(f"{row['condition']}: no significant change vs the reference condition ({change}, "
                 f"p = {p:.3g} >= 0.05): it did not help.")
  return out


def markdown(r: dict) -> str:
  from research.evaluation import markdown as md
  metric = r["metric"]
  pct = (lambda v: f"{100 * v:.2f}%") if metric == "accuracy" else (lambda v: f"{v:.4g}")
  lines = [f"# Ablation on the {r['split']} split (seeds {r['seeds']})", "",
           *[f"- {md.escape(v)}" for v in r["verdicts"]], "",
           f"Trivial baseline: {r['baseline_name']} {r['baseline_score']:.3f}. Interval: bootstrap over "
           "the evaluation examples of the mean over seeds.", "",
           f"| condition | {r['split']} {metric} | 95% interval | change | p (change) | p (vs {r['baseline_name']}) |",
           "|---|---|---|---|---|---|"]
  for row in r["conditions"]:
    a = row["score"]
    value = pct(a["mean"]) + (f" +- {pct(a['std'])}" if a["n"] > 1 else "")
    lo, hi = a["interval_95"]
    change = "reference" if row["condition"] == r["reference_condition"] else _scaled(row["change"], metric)
    p = "" if row["change_p_value"] is None else f"{row['change_p_value']:.3g}"
    lines.append(f"| {md.escape(row['condition'])} | {value} | [{pct(lo)}, {pct(hi)}] | {change} | {p} | "
                 f"{row['p_value_vs_baseline']:.3g} |")
  lines += ["", *[f"![{pathlib.Path(p).stem}]({p})" for p in r.get("plots", [])]]
  return "\n".join(lines) + "\n"

"""Ablations: vary config fields, train each condition (seeds vmapped), compare to a baseline.

`--vary key=v1,v2` (repeatable; conditions are the product of all values) on
any config field. The first condition is the baseline. Per condition: accuracy
on `config.eval.split` (mean over seeds), a 95% interval (Wilson for one seed,
t over seeds otherwise), the change vs the baseline in percentage points, and a
significance test of that change (exact McNemar on the pooled paired
predictions when both conditions share the evaluation set).
"""

from __future__ import annotations

import copy
import itertools
import pathlib

import numpy as np

from research.data import load_dataset
from research.studies import common
from research.train import records


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


def run_condition(cfg, seeds: list[int], log=print) -> dict:
  dataset = load_dataset(cfg)
  split_name = cfg.eval.split
  split = dataset.split(split_name)
  names = dataset.meta["class_names"]
  if common.is_forest(cfg):
    probs = [common.forest_fit_predict(cfg, dataset.train, {"eval": split}, dataset.meta, s)[0]["eval"]
             for s in seeds]
    best_epochs = [None] * len(seeds)
  else:
    results, per_run = common.neural_fit_predict(cfg, dataset.train, dataset.val, {"eval": split},
                                                 dataset.meta, seeds, log=log)
    probs = [p["eval"] for p in per_run]
    best_epochs = [r.best_epoch for r in results]
  scores = [common.score(split["y"], p, names, split_name) for p in probs]
  accuracies = [s["accuracy"] for s in scores]
  summary = common.mean_std(accuracies)
  if len(seeds) == 1:
    summary["interval_95"] = scores[0]["accuracy_interval_95"]
    summary["interval_method"] = "wilson"
  else:
    summary["interval_method"] = "t over seeds"
  correct = np.stack([p.argmax(1) == split["y"] for p in probs])  # (S, N)
  pooled_p = common.score(np.tile(split["y"], len(seeds)),
                          np.eye(len(names))[np.concatenate([p.argmax(1) for p in probs])], names)
  return {"accuracy": summary, "per_seed": accuracies, "best_epochs": best_epochs,
          "p_value_vs_chance": pooled_p["p_value_vs_chance"],
          "better_than_chance": pooled_p["better_than_chance"], "n_eval": int(len(split["y"])),
          "_correct": correct, "_labels": split["y"]}


def run_ablation(config, vary_specs: list[str], workdir, seeds: int = 1, log=print) -> dict:
  """Runs every condition; writes ablation.json, ablation.md and plots/ablation.png."""
  workdir = pathlib.Path(workdir)
  vary = parse_vary(vary_specs, config)
  seed_list = [int(config.seed) + i for i in range(seeds)]
  rows = []
  for label, cfg in conditions(config, vary):
    if log:
      log(f"condition {label}")
    rows.append({"condition": label, **run_condition(cfg, seed_list, log=log)})
  base = rows[0]
  chance = None
  for row in rows:
    row["change_pp"] = 100 * (row["accuracy"]["mean"] - base["accuracy"]["mean"])
    same = (row["_labels"].shape == base["_labels"].shape and np.array_equal(row["_labels"], base["_labels"]))
    row["change_p_value"] = (common.mcnemar_p(row["_correct"].ravel(), base["_correct"].ravel())
                             if same and row is not base else None)
  num_classes = len(load_dataset(config).meta["class_names"])
  chance = 1.0 / num_classes
  for row in rows:
    row.pop("_correct")
    row.pop("_labels")
  result = {"vary": [{"field": k, "values": v} for k, v in vary], "seeds": seed_list,
            "split": config.eval.split, "chance_level": chance, "baseline": base["condition"],
            "conditions": rows, "verdicts": _verdicts(rows, chance)}
  plot = common.bar_plot(workdir / "plots" / "ablation.png", [r["condition"] for r in rows],
                         [r["accuracy"]["mean"] for r in rows], [r["accuracy"]["std"] for r in rows],
                         chance, f"Ablation ({config.eval.split} accuracy)")
  result["plots"] = [str(pathlib.Path(plot).relative_to(workdir))]
  records.write_json_atomic(workdir / "ablation.json", result)
  records.write_text_atomic(workdir / "ablation.md", markdown(result))
  return result


def _verdicts(rows, chance) -> list[str]:
  out = []
  for row in rows:
    if not row["better_than_chance"]:
      out.append(f"{row['condition']}: NOT better than chance ({row['accuracy']['mean']:.3f} vs "
                 f"{chance:.3f}, p = {row['p_value_vs_chance']:.3g}).")
  for row in rows[1:]:
    p = row["change_p_value"]
    change = row["change_pp"]
    if p is None:
      out.append(f"{row['condition']}: {change:+.2f} pp vs baseline (different evaluation sets; no paired test).")
    elif p < 0.05:
      out.append(f"{row['condition']}: {'helps' if change > 0 else 'hurts'}, {change:+.2f} pp vs "
                 f"baseline (McNemar p = {p:.3g}).")
    else:
      out.append(f"{row['condition']}: no significant change vs baseline ({change:+.2f} pp, "
                 f"McNemar p = {p:.3g} >= 0.05): it did not help.")
  return out


def markdown(r: dict) -> str:
  lines = [f"# Ablation on the {r['split']} split (seeds {r['seeds']})", "",
           *[f"- {v}" for v in r["verdicts"]], "",
           f"Chance level {r['chance_level']:.3f}. Interval: Wilson (one seed) or t over seeds.", "",
           "| condition | test accuracy | 95% interval | change | p (change) | p (vs chance) |",
           "|---|---|---|---|---|---|"]
  for row in r["conditions"]:
    a = row["accuracy"]
    acc = f"{100 * a['mean']:.2f}%" + (f" +- {100 * a['std']:.2f}" if a["n"] > 1 else "")
    lo, hi = a["interval_95"]
    change = "baseline" if row["condition"] == r["baseline"] else f"{row['change_pp']:+.2f} pp"
    p = "" if row["change_p_value"] is None else f"{row['change_p_value']:.3g}"
    lines.append(f"| {row['condition']} | {acc} | [{100 * lo:.1f}%, {100 * hi:.1f}%] | {change} | {p} | "
                 f"{row['p_value_vs_chance']:.3g} |")
  lines += ["", *[f"![{pathlib.Path(p).stem}]({p})" for p in r.get("plots", [])]]
  return "\n".join(lines) + "\n"

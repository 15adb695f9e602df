"""Sweeps: every combination of varied config fields x seeds, one program per group of points.

`--vary key=v1,v2` (repeatable) on any config field; every point trains with
seeds config.seed, +1, ... Points that differ only in fields a run can hold on
its own (PER_RUN: the learning rate, which lives in the optimizer state; and the
seed) form one group and train as one program on the runs axis of the mesh
(research.train.mesh). Fields that change the program (layer sizes, dropout rate,
weight decay, augmentation...) make separate groups, trained one after another.

Per point, on `config.eval.split`: the mean over seeds of the score (accuracy,
or MSE for regression), its std, and a 95% t-interval of that mean; the best point
and the trivial baselines (chance and majority class, or the zero prediction).
Each group trains in workdir/groups/<i>/ with its checkpoints, so a sweep killed
at any epoch resumes with the same command.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import pathlib

import numpy as np

from research import workdir as workdir_lib
from research import workdir_lock
from research.data import load_dataset
from research.studies import ablation
from research.studies import common
from research.train import RunSpec
from research.train import trained as trained_lib

PER_RUN = ("optim.lr",)  # fields that vary between the runs of one program


@dataclasses.dataclass
class Point:
  label: str
  values: dict  # {field: value}
  config: object


def points(config, vary) -> list[Point]:
  """Every combination of the varied values, in the order given."""
  out = []
  for values in itertools.product(*[v for _, v in vary]):
    cfg = copy.deepcopy(config)
    chosen = dict(zip([k for k, _ in vary], values))
    with cfg.unlocked():
      for key, value in chosen.items():
        common.set_field(cfg, key, value)
    out.append(Point(", ".join(f"{k}={v}" for k, v in chosen.items()), chosen, cfg))
  return out


def _program_key(cfg, base) -> str:
  """The config with its per-run fields set to the base config's: equal keys train as one program."""
  cfg = copy.deepcopy(cfg)
  with cfg.unlocked():
    for field in PER_RUN:
      common.set_field(cfg, field, common.get_field(base, field))
  return cfg.to_json_best_effort(sort_keys=True)


def groups(all_points: list[Point], base) -> list[list[int]]:
  """Indices of the points that train together, in order of first appearance."""
  keyed: dict[str, list[int]] = {}
  for i, point in enumerate(all_points):
    keyed.setdefault(_program_key(point.config, base), []).append(i)
  return list(keyed.values())


def _baselines(split: dict, names, metric: str) -> dict:
  """The trivial baselines of the evaluation split: chance and majority class, or the zero prediction."""
  y = np.asarray(split["y"])
  if metric == "accuracy":
    counts = np.bincount(y[y >= 0], minlength=len(names))
    return {"chance": 1.0 / len(names), "majority": float(counts.max() / counts.sum()),
            "majority_class": str(names[int(counts.argmax())])}
  zero = common.score(split, {"value": np.zeros_like(np.asarray(y, np.float64))}, names)
  return {"zero_prediction": zero.value}


def _train_group(group_points: list[Point], seeds: list[int], directory: pathlib.Path, log) -> list[dict]:
  """Trains every point x seed of one group as one program; per point its scores over seeds."""
  cfg = group_points[0].config
  dataset = load_dataset(cfg)
  directory = common.study_dir(directory.parent, directory.name, cfg, dataset)
  split_name = cfg.eval.split
  split = dataset.split(split_name)
  names = dataset.meta.get("class_names") or []
  specs = [RunSpec(seed=s, train=dataset.train, val=dataset.val, lr=float(p.config.optim.lr))
           for p in group_points for s in seeds]
  checkpoints = directory / "checkpoints" if trained_lib.has_network(cfg) else None
  trained, outputs = common.fit_predict(cfg, dataset.meta, specs, [{"eval": split}] * len(specs),
                                        checkpoint_dir=checkpoints, log=log)
  scores = [common.score(split, o["eval"], names, split_name) for o in outputs]
  metric = scores[0].metric
  rows = []
  for i, point in enumerate(group_points):
    mine = slice(i * len(seeds), (i + 1) * len(seeds))
    values = [s.value for s in scores[mine]]
    rows.append({"point": point.label, "values": point.values, "metric": metric,
                 "score": common.mean_std(values), "per_seed": values,
                 "best_epochs": [t.results[0].best_epoch if t.results else None for t in trained[mine]],
                 "baselines": _baselines(split, names, metric), "n_eval": int(len(split["y"]))})
  return rows


@workdir_lock.locks_workdir
def run_sweep(config, vary_specs: list[str], workdir, seeds: int = 1, log=print) -> dict:
  """Trains every point; writes sweep.json, sweep.md and plots/sweep.png (process 0)."""
  if seeds < 1:
    raise ValueError(f"--seeds is {seeds}; it must be >= 1 (seeds config.seed, +1, ...)")
  workdir = pathlib.Path(workdir)
  vary = ablation.parse_vary(vary_specs, config)
  all_points = points(config, vary)
  common.check(*[point.config for point in all_points])
  seed_list = [int(config.seed) + i for i in range(seeds)]
  plan = groups(all_points, config)
  rows: list[dict | None] = [None] * len(all_points)
  for g, members in enumerate(plan):
    if log:
      log(f"group {g}: {len(members)} point(s) x {seeds} seed(s) as one program: "
          + "; ".join(all_points[i].label for i in members))
    found = _train_group([all_points[i] for i in members], seed_list, workdir / "groups" / str(g), log)
    for i, row in zip(members, found):
      rows[i] = {**row, "group": g}
  metric = rows[0]["metric"]
  means = [r["score"]["mean"] for r in rows]
  best = int(np.argmax(means) if metric == "accuracy" else np.argmin(means))
  baselines = rows[0]["baselines"]
  result = {"vary": [{"field": k, "values": v} for k, v in vary], "seeds": seed_list, "metric": metric,
            "split": config.eval.split, "per_run_fields": list(PER_RUN), "groups": plan,
            "baselines": baselines, "best": rows[best]["point"], "points": rows}
  result["verdicts"] = _verdicts(result)
  baseline_name, baseline = _plotted_baseline(baselines)
  plot = common.bar_plot(workdir / "plots" / "sweep.png", [r["point"] for r in rows], means,
                         [r["score"]["std"] for r in rows], baseline,
                         f"Sweep ({config.eval.split} {metric}, mean +- std over {seeds} seed(s))",
                         ylabel=metric, baseline_name=baseline_name)
  result["plots"] = [str(pathlib.Path(plot).relative_to(workdir))]
  workdir_lib.write_json_atomic(workdir / "sweep.json", result)
  workdir_lib.write_text_atomic(workdir / "sweep.md", markdown(result))
  return result


def _plotted_baseline(baselines: dict) -> tuple[str, float]:
  if "majority" in baselines:
    return "majority class", baselines["majority"]
  return "zero prediction", baselines["zero_prediction"]


def _verdicts(r: dict) -> list[str]:
  metric, rows = r["metric"], r["points"]
  best = next(row for row in rows if row["point"] == r["best"])
  s = best["score"]
  name, baseline = _plotted_baseline(r["baselines"])
  better = s["mean"] > baseline if metric == "accuracy" else s["mean"] < baseline
  out = [f"Best point: {best['point']} ({metric} {s['mean']:.4g} +- {s['std']:.3g} over {s['n']} seed(s), "
         f"95% t-interval [{s['interval_95'][0]:.4g}, {s['interval_95'][1]:.4g}])."]
  out.append(f"Its mean is {'better' if better else 'NOT better'} than the {name} ({baseline:.4g}).")
  overlapping = [row["point"] for row in rows if row is not best and row["score"]["n"] > 1
                 and row["score"]["interval_95"][0] <= s["interval_95"][1]
                 and s["interval_95"][0] <= row["score"]["interval_95"][1]]
  if s["n"] < 2:
    out.append("One seed per point: no interval; run more --seeds before trusting the ranking.")
  elif overlapping:
    out.append(f"Its interval overlaps those of {len(overlapping)} other point(s) ({'; '.join(overlapping)}): "
               "the ranking among them is not settled by these seeds.")
  return out


def markdown(r: dict) -> str:
  from research.evaluation import markdown as md
  metric, b = r["metric"], r["baselines"]
  if metric == "accuracy":
    baseline = (f"chance {b['chance']:.3f} (1/classes); majority class ({md.escape(b['majority_class'])}) "
                f"{b['majority']:.3f}")
  else:
    baseline = f"zero prediction MSE {b['zero_prediction']:.4g}"
  lines = [f"# Sweep on the {r['split']} split (seeds {r['seeds']})", "",
           *[f"- {md.escape(v)}" for v in r["verdicts"]], "",
           f"Trivial baselines: {baseline}. Interval: 95% t-interval of the mean over seeds. Points in one "
           f"group trained as one program (per-run fields: {', '.join(r['per_run_fields'])}, seed).", "",
           f"| point | {metric} mean +- std | 95% interval | seeds | group |", "|---|---|---|---|---|"]
  for row in r["points"]:
    s = row["score"]
    lo, hi = s["interval_95"]
    mark = " **(best)**" if row["point"] == r["best"] else ""
    lines.append(f"| {md.escape(row['point'])}{mark} | {s['mean']:.4g} +- {s['std']:.3g} | "
                 f"[{lo:.4g}, {hi:.4g}] | {s['n']} | {row['group']} |")
  lines += ["", *[f"![{pathlib.Path(p).stem}]({p})" for p in r.get("plots", [])]]
  return "\n".join(lines) + "\n"

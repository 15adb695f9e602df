"""Transfer gap: train and validate on the source domain, test on the target domain.

The neural run records target accuracy every `config.transfer.every` epochs
(the seed's TransferMetricsCallback) in its history; the forest baseline is fit
on the same source training split. Per model: source validation accuracy,
target test accuracy, the gap (val - test) with Wilson intervals, and Fisher's
exact test of "source and target accuracies differ".
"""

from __future__ import annotations

import pathlib

from matplotlib import pyplot as plt
from scipy import stats as scipy_stats

from research import workdir as workdir_lib
from research import workdir_lock
from research.data import dataset as dataset_lib
from research.evaluation import plots
from research.studies import common
from research.train import RunSpec
from research.train import trained as trained_lib


def _gap(name, val_split, test_split, val_probs, test_probs, class_names) -> dict:
  val = common.score(val_split, {"probs": val_probs}, class_names, "val").details
  test = common.score(test_split, {"probs": test_probs}, class_names, "test").details
  table = [[val["correct"], val["num_examples"] - val["correct"]],
           [test["correct"], test["num_examples"] - test["correct"]]]
  return {"model": name, "source_val_accuracy": val["accuracy"],
          "source_val_interval_95": val["accuracy_interval_95"],
          "target_test_accuracy": test["accuracy"], "target_test_interval_95": test["accuracy_interval_95"],
          "gap": val["accuracy"] - test["accuracy"],
          "gap_p_value": float(scipy_stats.fisher_exact(table)[1]),
          "target_better_than_chance": test["better_than_chance"],
          "target_p_value_vs_chance": test["p_value_vs_chance"],
          "source_better_than_chance": val["better_than_chance"]}


@workdir_lock.locks_workdir
def run_transfer(config, dataset: dataset_lib.Dataset | None, workdir, baseline_config=None, log=print) -> dict:
  """Writes transfer_report.json/.md, plots/transfer_curves.png and plots/transfer_gap.png.

  The baseline fits on exactly the config's data (common.baseline_for); `dataset`:
  the config's data when the caller has them (read here when None).
  """
  common.check(config, baseline_config)
  baseline_config = common.baseline_for(config, baseline_config, log)
  dataset = common.dataset_of(config, dataset)
  workdir = pathlib.Path(workdir)
  meta = dataset.meta
  if meta.get("split") != "transfer":
    raise ValueError("transfer: the data have no source/target split; it needs a domain tag per window "
                     "and config.data.target_domain set (e.g. L4), with source_domain (e.g. L3)")
  names = meta["class_names"]
  evaluate = {"val": dataset.val, "test": dataset.test}
  models, history = [], None
  for cfg in [config] + ([baseline_config] if baseline_config is not None else []):
    name = common.model_name(cfg)
    network = trained_lib.has_network(cfg)
    directory = common.study_dir(workdir, name, cfg, dataset)
    trained, outputs = common.fit_predict(
        cfg, meta, [RunSpec(seed=int(cfg.seed), train=dataset.train, val=dataset.val)], [evaluate],
        checkpoint_dir=directory / "checkpoints" if network else None,
        extra_eval={"target": dataset.test} if network else None, log=log)
    probs = {k: v["probs"] for k, v in outputs[0].items()}
    models.append(_gap(name, dataset.val, dataset.test, probs["val"], probs["test"], names))
    if network:
      history = history or trained[0].results[0].history
      models[-1]["best_epoch"] = trained[0].results[0].best_epoch
  chance = 1.0 / len(names)
  result = {"source_domain": meta.get("source_domain"), "target_domain": meta.get("target_domain"),
            "sizes": dataset.sizes(), "chance_level": chance, "every": int(config.get("transfer", {}).get("every", 0)),
            "models": models, "verdicts": _verdicts(models, meta, chance)}
  plots = [_curves(history, workdir / "plots" / "transfer_curves.png", meta, chance)] if history else []
  plots.append(_gap_plot(models, workdir / "plots" / "transfer_gap.png", meta, chance))
  result["plots"] = [str(pathlib.Path(p).relative_to(workdir)) for p in plots]
  if history:
    workdir_lib.write_history(workdir / "history.jsonl", history)
  workdir_lib.write_json_atomic(workdir / "transfer_report.json", result)
  workdir_lib.write_text_atomic(workdir / "transfer_report.md", markdown(result))
  return result


def _verdicts(models, meta, chance) -> list[str]:
  out = []
  src, tgt = meta.get("source_domain"), meta.get("target_domain")
  for m in models:
    line = (f"{m['model']}: source ({src}) val {m['source_val_accuracy']:.3f}, target ({tgt}) test "
            f"{m['target_test_accuracy']:.3f}, gap {100 * m['gap']:+.2f} pp")
    line += (f" (Fisher p = {m['gap_p_value']:.3g}: a real drop)." if m["gap_p_value"] < 0.05 and m["gap"] > 0
             else f" (Fisher p = {m['gap_p_value']:.3g}: no significant difference).")
    out.append(line)
    if not m["target_better_than_chance"]:
      out.append(f"{m['model']} is NOT better than chance ({chance:.3f}) on the target domain "
                 f"(p = {m['target_p_value_vs_chance']:.3g}).")
    if not m["source_better_than_chance"]:
      out.append(f"{m['model']} is NOT better than chance even on the source validation split.")
  return out


@plots.literal_text
def _curves(history, path, meta, chance):
  fig, ax = plt.subplots(figsize=(6, 3.4))
  epochs = [h["epoch"] for h in history]
  ax.plot(epochs, [h["accuracy"] for h in history], label="train (source)", lw=1, alpha=0.7)
  ax.plot(epochs, [h["val_accuracy"] for h in history], label=f"val ({meta.get('source_domain')})", lw=1.5)
  target = [(h["epoch"], h["target_accuracy"]) for h in history if "target_accuracy" in h]
  if target:
    ax.plot(*zip(*target), "o-", label=f"target ({meta.get('target_domain')})", lw=1.5, ms=3)
  ax.axhline(chance, color="k", ls="--", lw=1, label="chance")
  ax.set_xlabel("epoch")
  ax.set_ylabel("accuracy")
  ax.set_ylim(0, 1)
  ax.legend(fontsize=8)
  ax.set_title("Source vs target accuracy during training")
  plots.save_figure(fig, pathlib.Path(path))
  return str(path)


@plots.literal_text
def _gap_plot(models, path, meta, chance):
  fig, ax = plt.subplots(figsize=(5, 3.2))
  width = 0.38
  for i, m in enumerate(models):
    for j, (key, label) in enumerate([("source_val", f"val {meta.get('source_domain')}"),
                                      ("target_test", f"test {meta.get('target_domain')}")]):
      acc = m[f"{key}_accuracy"]
      lo, hi = m[f"{key}_interval_95"]
      ax.bar(i + (j - 0.5) * width, acc, width, yerr=[[acc - lo], [hi - acc]], capsize=4,
             color=["#4c72b0", "#dd8452"][j], label=label if i == 0 else None)
  ax.axhline(chance, color="k", ls="--", lw=1, label="chance")
  ax.set_xticks(range(len(models)))
  ax.set_xticklabels([m["model"] for m in models])
  ax.set_ylim(0, 1)
  ax.set_ylabel("accuracy (95% Wilson)")
  ax.set_title("Transfer gap")
  ax.legend(fontsize=8)
  plots.save_figure(fig, pathlib.Path(path))
  return str(path)


def markdown(r: dict) -> str:
  lines = [f"# Transfer gap: {r['source_domain']} -> {r['target_domain']}", "",
           *[f"- {v}" for v in r["verdicts"]], "",
           f"Sizes {r['sizes']}; chance level {r['chance_level']:.3f}; target accuracy logged every "
           f"{r['every']} epochs (history.jsonl, `target_accuracy`).", "",
           "| model | source val acc [95%] | target test acc [95%] | gap | p (Fisher) |",
           "|---|---|---|---|---|"]
  for m in r["models"]:
    (a, b), (c, d) = m["source_val_interval_95"], m["target_test_interval_95"]
    lines.append(f"| {m['model']} | {m['source_val_accuracy']:.3f} [{a:.3f}, {b:.3f}] | "
                 f"{m['target_test_accuracy']:.3f} [{c:.3f}, {d:.3f}] | {100 * m['gap']:+.2f} pp | "
                 f"{m['gap_p_value']:.3g} |")
  lines += ["", *[f"![{pathlib.Path(p).stem}]({p})" for p in r.get("plots", [])]]
  return "\n".join(lines) + "\n"

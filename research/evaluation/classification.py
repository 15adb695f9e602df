"""The classification report: accuracy with its honest context, per-class scores, plots.

`report(...)` is `REPORTS['classification']`; the engine calls it on the evaluation
split (the test split unless a config says otherwise) and writes the returned dict
as report.json and the markdown as report.md.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
from sklearn import metrics as sk_metrics

from research.data import skipped as skipped_lib
from research.evaluation import classification_plots as plots
from research.evaluation import markdown as md
from research.evaluation import stats

ALPHA = 0.05  # significance level of the "better than chance" tests
INTERVAL_METHOD = "wilson"
MAX_LISTED = 50  # skipped inputs listed one per row in report.md


def _val_accuracy(val_metrics: dict | None):
  for key in ("accuracy", "val_accuracy"):
    if val_metrics and key in val_metrics and val_metrics[key] is not None:
      return float(val_metrics[key])
  return None


def _class_names(meta: dict, num_classes: int) -> list[str]:
  names = list(meta.get("class_names") or [])
  if names and len(names) != num_classes:
    raise ValueError(f"meta['class_names'] has {len(names)} names but the predictions have "
                     f"{num_classes} classes; the run's meta and model disagree")
  return names or [str(i) for i in range(num_classes)]


def compute(labels, probs, class_names: list[str], val_accuracy: float | None = None,
            split_name: str = "test") -> dict[str, Any]:
  """Every number of the report, from true labels (N,) and class probabilities (N, C)."""
  labels = np.asarray(labels).astype(np.int64).reshape(-1)
  probs = np.asarray(probs, np.float64)
  if probs.ndim != 2 or len(probs) != len(labels):
    raise ValueError(f"classification report: probs must be (N, C) with N = {len(labels)} labels; "
                     f"found {probs.shape}")
  num, num_classes = probs.shape
  if num == 0:
    raise ValueError(f"classification report: the {split_name!r} split is empty")
  if labels.min() < 0 or labels.max() >= num_classes:
    raise ValueError(f"classification report: labels must lie in [0, {num_classes}); "
                     f"found {labels.min()}..{labels.max()}")
  predicted = probs.argmax(-1)
  correct = int((predicted == labels).sum())
  accuracy = correct / num
  low, high = stats.wilson_interval(correct, num)
  loss = float(-np.log(np.clip(probs[np.arange(num), labels], 1e-12, 1.0)).mean())
  chance = stats.chance_level(num_classes)
  majority, majority_index = stats.majority_rate(labels, num_classes)
  p_chance = stats.binomial_p_value(correct, num, chance)
  p_majority = stats.binomial_p_value(correct, num, majority)

  class_ids = list(range(num_classes))
  precision, recall, f1, support = sk_metrics.precision_recall_fscore_support(
      labels, predicted, labels=class_ids, zero_division=0)
  per_class = {
      name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
             "support": int(support[i])}
      for i, name in enumerate(class_names)}
  averages = {}
  for average in ("macro", "weighted"):
    p, r, f, _ = sk_metrics.precision_recall_fscore_support(
        labels, predicted, labels=class_ids, average=average, zero_division=0)
    averages[average] = {"precision": float(p), "recall": float(r), "f1": float(f), "support": num}
  confusion = sk_metrics.confusion_matrix(labels, predicted, labels=class_ids)

  better_than_chance = p_chance < ALPHA
  better_than_majority = p_majority < ALPHA
  verdicts = []
  if split_name == "train":
    verdicts.append("This report is on the TRAINING split: it says nothing about how the model "
                    "generalises. Evaluate on the test split.")
  if better_than_chance:
    verdicts.append(f"Accuracy {accuracy:.3f} is better than chance ({chance:.3f}): exact binomial "
                    f"test p = {p_chance:.3g} < {ALPHA}.")
  else:
    verdicts.append(f"The model is NOT better than chance: accuracy {accuracy:.3f} vs chance "
                    f"{chance:.3f}, exact binomial test p = {p_chance:.3g} >= {ALPHA}.")
  if majority > chance + 1e-12:
    if better_than_majority:
      verdicts.append(f"It also beats always predicting the majority class "
                      f"({class_names[majority_index]!r}, {majority:.3f}): p = {p_majority:.3g}.")
    else:
      verdicts.append(f"The model is NOT better than always predicting the majority class "
                      f"({class_names[majority_index]!r}, {majority:.3f}): p = {p_majority:.3g}.")
  val_outside = None
  if val_accuracy is not None:
    val_outside = not low - 1e-9 <= val_accuracy <= high + 1e-9
    if val_outside:
      verdicts.append(f"Validation accuracy {val_accuracy:.3f} and {split_name} accuracy {accuracy:.3f} "
                      f"differ by more than the 95% interval [{low:.3f}, {high:.3f}]: the validation "
                      f"score (used for early stopping and model selection) is not a reliable "
                      f"estimate here.")
    else:
      verdicts.append(f"Validation accuracy {val_accuracy:.3f} lies inside the {split_name} accuracy's "
                      f"95% interval.")
  off = confusion.copy()
  np.fill_diagonal(off, 0)
  confused = [{"true": class_names[i], "predicted": class_names[j], "count": int(off[i, j])}
              for i, j in zip(*np.unravel_index(np.argsort(-off, axis=None), off.shape))
              if off[i, j] > 0][:5]
  return {
      "split": split_name,
      "num_examples": num,
      "num_classes": num_classes,
      "class_names": list(class_names),
      "accuracy": accuracy,
      "correct": correct,
      "accuracy_interval_95": [low, high],
      "interval_method": INTERVAL_METHOD,
      "loss": loss,
      "chance_level": chance,
      "majority_rate": majority,
      "majority_class": class_names[majority_index],
      "p_value_vs_chance": p_chance,
      "p_value_vs_majority": p_majority,
      "test": "one-sided exact binomial test (scipy.stats.binomtest, alternative='greater')",
      "alpha": ALPHA,
      "better_than_chance": bool(better_than_chance),
      "better_than_majority": bool(better_than_majority),
      "val_accuracy": val_accuracy,
      "val_outside_interval": val_outside,
      "per_class": per_class,
      "macro_avg": averages["macro"],
      "weighted_avg": averages["weighted"],
      "confusion_matrix": confusion.tolist(),
      "most_confused": confused,
      "verdicts": verdicts,
  }


def skipped_markdown(skipped_items) -> list[str]:
  """The report section listing inputs the reader left out (counted per reason and class)."""
  summary = skipped_lib.summary(skipped_items)
  if not summary["total"]:
    return []
  lines = ["", "## Skipped inputs while reading the data", "",
           f"{summary['total']} inputs were left out: "
           + ", ".join(f"{md.escape(reason)} {count}" for reason, count in summary["by_reason"].items()) + "."]
  if summary["by_class"]:
    lines += ["", "| class | skipped (reason: count) |", "|---|---|"]
    lines += [f"| {md.escape(name)} | " + ", ".join(f"{md.escape(k)}: {v}" for k, v in counts.items()) + " |"
              for name, counts in summary["by_class"].items()]
  shown = summary["items"][:MAX_LISTED]
  lines += ["", "| input | reason | detail |", "|---|---|---|"]
  lines += [f"| {md.escape(s['item'])} | {md.escape(s['reason'])} | {md.escape(s.get('detail', ''))} |"
            for s in shown]
  if summary["total"] > len(shown):
    lines.append(f"\n... and {summary['total'] - len(shown)} more (all in report.json under 'skipped').")
  return lines


def repairs_markdown(meta: dict) -> list[str]:
  """The report section stating how missing values were repaired, when any were."""
  missing = meta.get("missing_values") or {}
  if not any(missing.values()):
    return []
  return ["", "## Repaired inputs", "",
          f"Missing values (NaN) were repaired while reading: {missing.get('interpolated_values', 0)} values "
          f"interpolated linearly within their feature (the nearest value repeated at the edges), "
          f"{missing.get('trailing_missing_frames', 0)} trailing all-missing frames treated as padding."]


def markdown(result: dict[str, Any], plot_files: list[str], meta: dict | None = None) -> str:
  """The report a person reads; names from the data are escaped (`research.evaluation.markdown`)."""
  r = result
  low, high = r["accuracy_interval_95"]
  lines = [
      f"# Classification report ({md.escape(r['split'])} split)",
      "",
      *[f"- {md.escape(v)}" for v in r["verdicts"]],
      "",
      "| quantity | value |",
      "|---|---|",
      f"| examples | {r['num_examples']} ({r['num_classes']} classes) |",
      f"| accuracy | {r['accuracy']:.4f} ({r['correct']}/{r['num_examples']}) |",
      f"| 95% interval ({r['interval_method']}) | [{low:.4f}, {high:.4f}] |",
      f"| loss (cross-entropy) | {r['loss']:.4f} |",
      f"| chance level (1/classes) | {r['chance_level']:.4f} |",
      f"| majority-class rate | {r['majority_rate']:.4f} ({md.escape(r['majority_class'])}) |",
      f"| p-value vs chance | {r['p_value_vs_chance']:.3g} |",
      f"| p-value vs majority class | {r['p_value_vs_majority']:.3g} |",
  ]
  if r["val_accuracy"] is not None:
    lines.append(f"| validation accuracy (best checkpoint) | {r['val_accuracy']:.4f} |")
  lines += ["", "p-values: " + md.escape(r["test"]) + ".", "",
            "## Per class", "",
            "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
  for name, s in r["per_class"].items():
    lines.append(f"| {md.escape(name)} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
                 f"{s['support']} |")
  for key in ("macro_avg", "weighted_avg"):
    s = r[key]
    lines.append(f"| *{key.replace('_', ' ')}* | {s['precision']:.3f} | {s['recall']:.3f} | "
                 f"{s['f1']:.3f} | {s['support']} |")
  names = [md.escape(n) for n in r["class_names"]]
  lines += ["", "## Confusion matrix (rows: true, columns: predicted)", "",
            "| true \\ predicted | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|"]
  for name, row in zip(names, r["confusion_matrix"]):
    lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
  if r["most_confused"]:
    lines += ["", "Most frequent confusions: " + "; ".join(
        f"{md.escape(c['true'])} -> {md.escape(c['predicted'])} ({c['count']})"
        for c in r["most_confused"]) + "."]
  meta = meta or {}
  lines += skipped_markdown(meta.get("skipped"))
  lines += repairs_markdown(meta)
  if plot_files:
    lines += ["", "## Plots", ""] + [md.image(p) for p in plot_files]
  return "\n".join(lines) + "\n"


def report(*, split, predictions, meta, history, val_metrics, plots_dir, split_name, eval_config=None):
  """REPORTS['classification']: (report dict, markdown) for one evaluated split.

  Draws plots/confusion_matrix.png and plots/history.png, and writes labels.json into
  the workdir (the parent of `plots_dir`). `eval_config` (config.eval) has no setting
  this report reads.
  """
  del eval_config
  probs = np.asarray(predictions["probs"])
  class_names = _class_names(meta, probs.shape[-1])
  result = compute(split["y"], probs, class_names, _val_accuracy(val_metrics), split_name)
  plots_dir = pathlib.Path(plots_dir)
  plot_files = [plots.confusion_matrix(np.asarray(result["confusion_matrix"]), class_names,
                                       plots_dir / "confusion_matrix.png",
                                       title=f"Confusion matrix ({split_name}), accuracy "
                                             f"{result['accuracy']:.3f}")]
  if history:
    plot_files.append(plots.history(history, plots_dir / "history.png", metrics=("accuracy", "loss")))
  relative = [f"{plots_dir.name}/{pathlib.Path(p).name}" for p in plot_files]
  result["plots"] = relative
  # labels.json (class id -> name) beside the report, as the workdir record of a classifier.
  write_labels(plots_dir.parent, class_names)
  result["skipped"] = skipped_lib.summary(meta.get("skipped"))
  if meta.get("missing_values"):
    result["missing_values"] = meta["missing_values"]
  return result, markdown(result, relative, meta)


def write_labels(workdir, class_names) -> pathlib.Path:
  """Writes `labels.json` ({"class_names": [...]}, index = class id) into workdir."""
  from research import workdir as workdir_lib
  path = pathlib.Path(workdir) / "labels.json"
  workdir_lib.write_json_atomic(path, {"class_names": list(class_names)})
  return path

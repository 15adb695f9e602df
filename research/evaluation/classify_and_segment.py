"""The classify_and_segment report (the workout tracker): exercise classification, rep-start
segmentation, rep counting.

`report(...)` is `REPORTS['classify_and_segment']`. Classification reuses the classification report.
Segmentation is scored per frame (target >= 0.5, i.e. within the Gaussian's half width of a
start). Counting stitches the split's overlapping windows back into whole recordings
(the windows carry `recording` and `start`; `meta['recordings'][split]` holds each
recording's length and true sets), picks peaks and counts repetitions per true set, with the
settings of `config.eval.counting`.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
from sklearn import metrics as sk_metrics

from research.evaluation import classification
from research.evaluation import counting
from research.evaluation import counting_plots
from research.evaluation import markdown as md
from research.evaluation import stats


def segmentation_metrics(target_prob, pred_prob, threshold: float = 0.5, seed: int = 0,
                         resamples: int = 200) -> dict[str, Any]:
  """Per-frame accuracy, precision, recall, F1, ROC AUC of (N, T) predictions vs soft targets.

  Positives are frames with target >= 0.5. Intervals: Wilson for the proportions, a bootstrap
  over windows (rows) for the AUC. Frames of one window are correlated, so the Wilson intervals
  are narrower than the truth; the AUC bootstrap over windows is the more honest one.
  """
  target_NT = np.asarray(target_prob) >= 0.5
  prob_NT = np.asarray(pred_prob, np.float64)
  truth, prob = target_NT.reshape(-1), prob_NT.reshape(-1)
  predicted = prob >= threshold
  tp = int((predicted & truth).sum())
  fp = int((predicted & ~truth).sum())
  fn = int((~predicted & truth).sum())
  total = truth.size
  correct = int((predicted == truth).sum())
  positive_rate = float(truth.mean())
  result = {
      "frames": int(total), "threshold": threshold, "positive_rate": positive_rate,
      "accuracy": correct / total, "accuracy_interval_95": list(stats.wilson_interval(correct, total)),
      "precision": tp / (tp + fp) if tp + fp else 0.0,
      "precision_interval_95": list(stats.wilson_interval(tp, tp + fp)) if tp + fp else None,
      "recall": tp / (tp + fn) if tp + fn else 0.0,
      "recall_interval_95": list(stats.wilson_interval(tp, tp + fn)) if tp + fn else None,
      "baseline_accuracy_all_negative": 1.0 - positive_rate,
      "baseline_precision_random": positive_rate,
      "baseline_auc": 0.5,
  }
  p, r = result["precision"], result["recall"]
  result["f1"] = 2 * p * r / (p + r) if p + r else 0.0
  if 0 < truth.sum() < total:
    result["roc_auc"] = float(sk_metrics.roc_auc_score(truth, prob))
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(resamples):
      rows = rng.integers(0, len(target_NT), len(target_NT))
      t, s = target_NT[rows].reshape(-1), prob_NT[rows].reshape(-1)
      if 0 < t.sum() < t.size:
        aucs.append(sk_metrics.roc_auc_score(t, s))
    result["roc_auc_interval_95"] = [float(np.quantile(aucs, 0.025)), float(np.quantile(aucs, 0.975))]
  else:
    result["roc_auc"] = None
    result["roc_auc_interval_95"] = None
  return result


def _train_count_baseline(meta) -> int:
  """The median true count of the training sets: the trivial counter's constant answer."""
  counts = [s["count"] for rec in meta.get("recordings", {}).get("train", []) for s in rec["sets"]]
  return int(round(float(np.median(counts)))) if counts else 0


def counting_report(split, predictions, meta, split_name: str, params: dict,
                    plots_dir=None) -> dict[str, Any] | None:
  """Counts per true set on every whole recording of the split; None without recording info.

  `params`: the counting settings (`counting.settings(config.eval.counting)`).
  """
  recordings = meta.get("recordings", {}).get(split_name)
  if not recordings or "recording" not in split or "start" not in split:
    return None
  class_names = list(meta["class_names"])
  none_index = class_names.index(meta.get("none_class", "none"))
  baseline = _train_count_baseline(meta)
  rows, plot_files = [], []
  for index, rec in enumerate(recordings):
    rows_of = np.flatnonzero(split["recording"] == index)
    if len(rows_of) == 0:
      continue
    starts, num_frames = split["start"][rows_of], rec["num_frames"]
    found = counting.analyse_windows(
        predictions["seg_prob"][rows_of], predictions["probs"][rows_of], starts, num_frames, none_index=none_index, params=params, delay=int(meta.get("target_delay", 0)))
    per_set = counting.count_in_sets(found["peaks"], rec["sets"], params["tolerance"])
    for true_set, reps in zip(rec["sets"], per_set):
      frame_labels = found["labels"][true_set["start"]:true_set["end"]]
      rows.append({"recording": rec["name"], "exercise": class_names[true_set["label"]],
                   "start": true_set["start"], "end": true_set["end"], "true": true_set["count"],
                   "predicted": len(reps),
                   "predicted_exercise": class_names[int(np.bincount(frame_labels).argmax())]})
    if plots_dir is not None and index == 0:
      x_TF = counting.stitch(split["x"][rows_of], starts, num_frames)
      scaling = meta.get("input_scaling", {"center": 0.0, "scale": 1.0})
      angles_TF = x_TF * scaling["scale"] + scaling["center"]
      true_starts = [r for s in rec["sets"] for r in s["rep_starts"]]
      path = counting_plots.reps_plot(
          pathlib.Path(plots_dir) / f"reps_{rec['name']}.png", angles_TF=angles_TF,
          joint_names=meta.get("feature_layout", [str(j) for j in range(x_TF.shape[1])]),
          seg_prob_T=found["seg_prob"], peaks=found["peaks"], segments=found["segments"],
          class_names=class_names, fps=float(meta.get("sampling_rate", 30.0)), true_starts=true_starts,
          height=params["height"])
      plot_files.append(f"{pathlib.Path(plots_dir).name}/{path.name}")
  if not rows:
    return None
  true = [r["true"] for r in rows]
  model = counting.counting_metrics(true, [r["predicted"] for r in rows])
  trivial = counting.counting_metrics(true, [baseline] * len(true))
  set_accuracy = float(np.mean([r["exercise"] == r["predicted_exercise"] for r in rows]))
  return {"params": params, "model": model, "baseline_constant_count": baseline, "baseline": trivial,
          "set_exercise_accuracy": set_accuracy, "sets": rows, "plots": plot_files,
          "recordings": [r["name"] for r in recordings]}


def _fmt_interval(interval):
  return "n/a" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _verdicts(seg, count) -> list[str]:
  lines = []
  if seg["roc_auc"] is None:
    lines.append("Segmentation: the split has no positive (or no negative) frame; AUC undefined.")
  elif seg["roc_auc_interval_95"][0] > 0.5:
    lines.append(f"Segmentation ROC AUC {seg['roc_auc']:.3f} is above the 0.5 of an uninformative "
                 f"score (95% interval {_fmt_interval(seg['roc_auc_interval_95'])}).")
  else:
    lines.append(f"Segmentation is NOT better than an uninformative score: ROC AUC {seg['roc_auc']:.3f}, "
                 f"95% interval {_fmt_interval(seg['roc_auc_interval_95'])} includes 0.5.")
  if seg["accuracy"] <= seg["baseline_accuracy_all_negative"]:
    lines.append(f"Per-frame segmentation accuracy {seg['accuracy']:.3f} does not beat predicting "
                 f"'no start' everywhere ({seg['baseline_accuracy_all_negative']:.3f}); read precision, "
                 "recall and AUC instead.")
  if count is not None:
    m, b = count["model"], count["baseline"]
    if m["mae_interval_95"][1] < b["mae"]:
      lines.append(f"Counting: MAE {m['mae']:.2f} repetitions per set beats always answering the training "
                   f"median ({count['baseline_constant_count']}, MAE {b['mae']:.2f}).")
    else:
      lines.append(f"Counting is NOT better than always answering the training median "
                   f"({count['baseline_constant_count']}): MAE {m['mae']:.2f} (95% interval "
                   f"{_fmt_interval(m['mae_interval_95'])}) vs {b['mae']:.2f}.")
  return lines


def markdown(result: dict[str, Any], cls_markdown: str) -> str:
  seg, count = result["segmentation"], result["counting"]
  lines = [f"# Workout tracker report ({md.escape(result['split'])} split)", "",
           *[f"- {md.escape(v)}" for v in result["verdicts"]], "",
           "## Repetition-start segmentation (per frame)", "",
           "| quantity | value | 95% interval | trivial baseline |", "|---|---|---|---|",
           f"| accuracy | {seg['accuracy']:.4f} | {_fmt_interval(seg['accuracy_interval_95'])} | "
           f"{seg['baseline_accuracy_all_negative']:.4f} (all 'no start') |",
           f"| precision | {seg['precision']:.4f} | {_fmt_interval(seg['precision_interval_95'])} | "
           f"{seg['baseline_precision_random']:.4f} (random) |",
           f"| recall | {seg['recall']:.4f} | {_fmt_interval(seg['recall_interval_95'])} | |",
           f"| F1 | {seg['f1']:.4f} | | |",
           "| ROC AUC | " + ("n/a" if seg["roc_auc"] is None else f"{seg['roc_auc']:.4f}")
           + f" | {_fmt_interval(seg['roc_auc_interval_95'])} | 0.5 |",
           "", f"{seg['frames']} frames, positive rate {seg['positive_rate']:.3f}, threshold "
           f"{seg['threshold']}. Wilson intervals treat frames as independent (they are not); the AUC "
           "interval bootstraps whole windows.", ""]
  if count is not None:
    m, b = count["model"], count["baseline"]
    p = count["params"]
    lines += ["## Repetition counting per set (whole held-out recordings)", "",
              f"Peaks >= {p['height']} at least {p['min_spacing']} frames apart in the stitched probability; "
              f"a peak counts for a true set if it lies within {p['tolerance']} frames of it. "
              f"Recordings: {', '.join(md.escape(name) for name in count['recordings'])}.", "",
              "| quantity | model | 95% interval | baseline (training median "
              f"{count['baseline_constant_count']}) |", "|---|---|---|---|",
              f"| MAE relative to true count | {m['mae_relative']:.4f} | "
              f"{_fmt_interval(m['mae_relative_interval_95'])} | {b['mae_relative']:.4f} |",
              f"| MAE (repetitions) | {m['mae']:.3f} | {_fmt_interval(m['mae_interval_95'])} | "
              f"{b['mae']:.3f} |",
              f"| off-by-one accuracy | {m['off_by_one']:.4f} | {_fmt_interval(m['off_by_one_interval_95'])} "
              f"| {b['off_by_one']:.4f} |",
              f"| exact count | {m['exact']:.4f} | | {b['exact']:.4f} |",
              f"| mean signed error | {m['mean_signed_error']:+.3f} | | {b['mean_signed_error']:+.3f} |",
              f"| sets | {m['num_sets']} | | |",
              f"| set exercise accuracy (majority of smoothed frame labels) | "
              f"{count['set_exercise_accuracy']:.4f} | | |", "",
              "| recording | exercise | predicted exercise | frames | true | counted |",
              "|---|---|---|---|---|---|"]
    for r in count["sets"]:
      lines.append(f"| {md.escape(r['recording'])} | {md.escape(r['exercise'])} | "
                   f"{md.escape(r['predicted_exercise'])} | {r['start']}-{r['end']} | {r['true']} | "
                   f"{r['predicted']} |")
    lines += [""] + [md.image(f) for f in count["plots"]] + [""]
  cls_body = cls_markdown.replace("\n## ", "\n### ")
  lines.append(cls_body.replace("# Classification report", "## Exercise classification per window", 1))
  return "\n".join(lines)


def report(*, split, predictions, meta, history, val_metrics, plots_dir, split_name, eval_config=None):
  """REPORTS['classify_and_segment']: classification + segmentation + counting for one evaluated split.

  `eval_config` is config.eval; its `counting` group holds the counting settings.
  """
  params = counting.settings(None if eval_config is None else eval_config.get("counting"))
  cls_result, cls_markdown = classification.report(
      split=split, predictions={"probs": predictions["probs"]}, meta=meta, history=history,
      val_metrics=val_metrics, plots_dir=plots_dir, split_name=split_name)
  seg = segmentation_metrics(split["seg"], predictions["seg_prob"])
  count = counting_report(split, predictions, meta, split_name, params, plots_dir)
  result = {"split": split_name, "classification": cls_result, "segmentation": seg, "counting": count,
            "accuracy": cls_result["accuracy"]}
  result["verdicts"] = [f"Exercise classification: {v}" for v in cls_result["verdicts"]] + _verdicts(seg, count)
  return result, markdown(result, cls_markdown)

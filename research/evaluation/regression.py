"""Regression report: MSE/MAE overall and per group, beside the zero prediction."""

from __future__ import annotations

import numpy as np
from scipy import stats

from research.evaluation import markdown as md
from research.evaluation import plots


def mean_interval(values, confidence: float = 0.95):
  """Normal-approximation interval of a mean: (mean, low, high); low = high = None below two values."""
  values = np.asarray(values, np.float64)
  mean = values.mean()
  if len(values) < 2:
    return float(mean), None, None
  half = stats.norm.ppf(0.5 + confidence / 2) * values.std(ddof=1) / np.sqrt(len(values))
  return float(mean), float(mean - half), float(mean + half)


def _per_example(values, mask):
  values = values.reshape(len(values), -1)
  if mask is None:
    return values.mean(1)
  mask = mask.reshape(len(values), -1).astype(np.float64)
  return (values * mask).sum(1) / np.maximum(mask.sum(1), 1)


def _summary(sq_err, abs_err, zero_sq, reference_sq=None):
  mse, low, high = mean_interval(sq_err)
  zero = float(zero_sq.mean())
  # Paired one-sided test: is the model's squared error below the zero prediction's?
  diff = zero_sq - sq_err
  p_value = float(stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue) if len(diff) > 1 else 1.0
  summary = {"mse": mse, "mse_ci95": None if low is None else [low, high], "mae": float(abs_err.mean()),
             "zero_prediction_mse": zero, "better_than_zero_p": p_value, "n": int(len(sq_err))}
  if reference_sq is not None:
    summary["reference_mse"] = float(reference_sq.mean())
  return summary


def report(*, split, predictions, meta, history, val_metrics, plots_dir, split_name, reference=None,
           eval_config=None):
  """Overall and per-group (e.g. per selected frequency) error with the zero baseline.

  `reference` ({"name", "value"}), when the dataset has one, is the error floor a
  known-optimal predictor reaches, stated beside the model's. `eval_config` (config.eval)
  has no setting this report reads.
  """
  del eval_config
  y = np.asarray(split["y"], np.float64)
  pred = np.asarray(predictions["value"], np.float64)
  mask = split.get("mask")
  squared = {"model": (pred - y) ** 2, "zero prediction": y ** 2}  # Elementwise, computed once.
  if reference is not None:
    squared["reference"] = (np.asarray(reference["value"], np.float64) - y) ** 2
  sq_err, zero_sq = _per_example(squared["model"], mask), _per_example(squared["zero prediction"], mask)
  abs_err = _per_example(np.abs(pred - y), mask)
  ref_sq = _per_example(squared["reference"], mask) if reference is not None else None
  result = {"split": split_name, "overall": _summary(sq_err, abs_err, zero_sq, ref_sq),
            "validation": {k: float(v) for k, v in val_metrics.items()},
            "epochs_trained": len(history)}
  if reference is not None:
    result["reference"] = reference["name"]
  groups = meta.get("frequency_names")
  if groups and "freq_index" in split:
    rows = [split["freq_index"] == k for k in range(len(groups))]
    result["per_group"] = {
        name: _summary(sq_err[r], abs_err[r], zero_sq[r], None if ref_sq is None else ref_sq[r])
        for name, r in zip(groups, rows)}
    _plot_predictions(split, pred, groups, plots_dir / "predictions.png")
  if y.ndim == 3 and mask is None:  # Equal-length sequences: where in the window the error lies.
    result["mse_by_step"] = {name: err.mean(axis=(0, 2)).tolist() for name, err in squared.items()}
    _plot_error_by_step(result["mse_by_step"], plots_dir / "error_by_step.png")
  return result, _markdown(result)


def _interval(summary):
  if summary["mse_ci95"] is None:
    return "n/a (one example)"
  low, high = summary["mse_ci95"]
  return f"{low:.4f}-{high:.4f}"


def _verdict(summary):
  if summary["mse"] < summary["zero_prediction_mse"] and summary["better_than_zero_p"] < 0.05:
    return "better than the zero prediction"
  return "NOT better than the zero prediction"


def _markdown(result):
  o = result["overall"]
  lines = [
      f"# Regression report ({md.escape(result['split'])} split)", "",
      f"{result['split'].capitalize()} MSE {o['mse']:.4f} (95% interval {_interval(o)}), "
      f"MAE {o['mae']:.4f} over {o['n']} sequences. Zero prediction: MSE {o['zero_prediction_mse']:.4f}. "
      f"The model is {_verdict(o)} (paired one-sided t-test p = {o['better_than_zero_p']:.2g}).", "",
      "Overlapping windows are not independent, so the interval is narrower than the truth.", ""]
  has_reference = "reference_mse" in o
  if has_reference:
    lines += [f"Reference, the {md.escape(result['reference'])}: MSE {o['reference_mse']:.4f} "
              f"(the model: {o['mse'] - o['reference_mse']:+.4f} from it).", ""]
  if "per_group" in result:
    reference_column = " reference MSE |" if has_reference else ""
    lines += ["| group | MSE | 95% interval | MAE | zero-prediction MSE |" + reference_column + " verdict |",
              "|---|---|---|---|---|" + ("---|" if has_reference else "") + "---|"]
    for name, s in result["per_group"].items():
      reference_cell = f" {s['reference_mse']:.4f} |" if has_reference else ""
      lines.append(f"| {md.escape(name)} | {s['mse']:.4f} | {_interval(s)} | "
                   f"{s['mae']:.4f} | {s['zero_prediction_mse']:.4f} |{reference_cell} {_verdict(s)} |")
  val = result["validation"]
  if "val_mse" in val:
    lines += ["", f"Best validation MSE {val['val_mse']:.4f} after {result['epochs_trained']} epochs."]
    if o["mse_ci95"] and not o["mse_ci95"][0] <= val["val_mse"] <= o["mse_ci95"][1]:
      lines.append(f"Validation and {result['split']} MSE differ by more than the interval "
                   f"({val['val_mse']:.4f} vs {o['mse']:.4f}): the validation figure does not predict "
                   f"{result['split']} performance (overlapping windows of the training signal make it "
                   f"optimistic when it is the lower one).")
  return "\n".join(lines) + "\n"


@plots.literal_text
def _plot_error_by_step(mse_by_step, path):
  fig, ax = plots.plt.subplots(figsize=(7, 3.5))
  for name, values in mse_by_step.items():
    ax.plot(np.arange(1, len(values) + 1), values, label=name)
  ax.set_yscale("log")
  ax.set_xlabel("step within the window")
  ax.set_ylabel("MSE")
  ax.grid(alpha=0.3)
  ax.legend()
  plots.save_figure(fig, path)


@plots.literal_text
def _plot_predictions(split, pred, groups, path, points: int = 1000):
  """Target vs prediction at each window's last step, for consecutive windows of each group."""
  fig, axes = plots.plt.subplots(len(groups), 1, figsize=(9, 2.2 * len(groups)), squeeze=False)
  for k, (name, ax) in enumerate(zip(groups, axes[:, 0])):
    rows = np.flatnonzero(split["freq_index"] == k)[:points]
    ax.plot(split["y"][rows, -1, 0], label="target", linewidth=1.5)
    ax.plot(pred[rows, -1, 0], label="prediction", linewidth=1.0)
    ax.set_ylabel(name)
    ax.grid(alpha=0.3)
  axes[0, 0].legend(loc="upper right")
  axes[-1, 0].set_xlabel("window (consecutive starts), last step")
  plots.save_figure(fig, path)

"""Figures for classification runs: confusion-matrix heatmap and training history."""

from __future__ import annotations

import numpy as np

from research.evaluation.plots import literal_text, plt, save_figure


def _save(fig, path) -> str:
  save_figure(fig, path)
  return str(path)


@literal_text
def confusion_matrix(counts_CC: np.ndarray, class_names, path, title: str = "Confusion matrix") -> str:
  """Heatmap coloured by the row-normalised rate (recall per true class), annotated with counts."""
  counts_CC = np.asarray(counts_CC)
  num = len(class_names)
  rows = counts_CC.sum(1, keepdims=True)
  rate = np.divide(counts_CC, rows, out=np.zeros(counts_CC.shape, float), where=rows > 0)
  size = max(4.0, 0.6 * num + 2.0)
  fig, ax = plt.subplots(figsize=(size + 1, size))
  image = ax.imshow(rate, cmap="Blues", vmin=0.0, vmax=1.0)
  fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
  ax.set_xticks(range(num), labels=class_names, rotation=45, ha="right")
  ax.set_yticks(range(num), labels=class_names)
  ax.set_xlabel("predicted")
  ax.set_ylabel("true")
  ax.set_title(title)
  if num <= 30:
    for i in range(num):
      for j in range(num):
        ax.text(j, i, str(int(counts_CC[i, j])), ha="center", va="center", fontsize=8,
                color="white" if rate[i, j] > 0.5 else "black")
  return _save(fig, path)


@literal_text
def history(rows: list[dict], path, metrics=("accuracy", "loss")) -> str:
  """One panel per metric: train (`name`) vs validation (`val_name`) over epochs."""
  epochs = [row.get("epoch", i + 1) for i, row in enumerate(rows)]
  shown = [m for m in metrics if any(m in r or f"val_{m}" in r for r in rows)] or list(metrics)
  fig, axes = plt.subplots(1, len(shown), figsize=(5.5 * len(shown), 4), squeeze=False)
  for ax, name in zip(axes[0], shown):
    for key, label in ((name, "train"), (f"val_{name}", "validation")):
      points = [(e, r[key]) for e, r in zip(epochs, rows) if isinstance(r.get(key), (int, float))]
      if points:
        ax.plot(*zip(*points), label=label)
    val = [(e, r[f"val_{name}"]) for e, r in zip(epochs, rows)
           if isinstance(r.get(f"val_{name}"), (int, float))]
    if val and name == "accuracy":
      best_epoch, best = max(val, key=lambda p: p[1])
      ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best val {best:.3f}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.set_title(name)
    ax.grid(alpha=0.3)
    ax.legend()
  return _save(fig, path)

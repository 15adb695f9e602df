"""Training-history plots shared by every task."""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402


def save_figure(fig, path) -> None:
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
  fig.savefig(tmp, dpi=110, bbox_inches="tight")
  plt.close(fig)
  tmp.replace(path)


def plot_loss(history: list[dict], path, log_scale: bool) -> None:
  """Train and validation loss per epoch; log scale suits regression losses."""
  epochs = [row["epoch"] for row in history]
  fig, ax = plt.subplots(figsize=(7, 4))
  ax.plot(epochs, [row["loss"] for row in history], label="train")
  ax.plot(epochs, [row["val_loss"] for row in history], label="validation")
  best = min(history, key=lambda row: row["val_loss"])
  ax.axvline(best["epoch"], color="gray", linestyle=":", label=f"best val (epoch {best['epoch']})")
  if log_scale:
    ax.set_yscale("log")
  ax.set_xlabel("epoch")
  ax.set_ylabel("loss")
  ax.legend()
  ax.grid(alpha=0.3)
  save_figure(fig, path)

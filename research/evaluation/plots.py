"""Training-history plots shared by every task, and what every figure of the project shares."""

from __future__ import annotations

import functools
import pathlib

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402


def literal_text(draw):
  """Decorator: every string a figure function draws is shown as written.

  Class, file and joint names come from users; matplotlib would read `$...$` in them as
  mathtext (and fail on a label like `$_^$` after training has finished).
  """
  @functools.wraps(draw)
  def wrapper(*args, **kwargs):
    with plt.rc_context({"text.parse_math": False}):
      return draw(*args, **kwargs)
  return wrapper


def save_figure(fig, path) -> None:
  """Saves `fig` atomically; in a multi-process run only process 0 writes (research.distributed)."""
  from research import distributed
  if not distributed.is_writer():
    plt.close(fig)
    return
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
  fig.savefig(tmp, dpi=110, bbox_inches="tight")
  plt.close(fig)
  tmp.replace(path)


@literal_text
def plot_loss(history: list[dict], path, log_scale: bool) -> None:
  """Train (and validation) loss per epoch, the epoch whose weights were kept; log scale suits regression."""
  epochs = [row["epoch"] for row in history]
  fig, ax = plt.subplots(figsize=(7, 4))
  ax.plot(epochs, [row["loss"] for row in history], label="train")
  if "val_loss" in history[0]:
    ax.plot(epochs, [row["val_loss"] for row in history], label="validation")
  best = [row for row in history if row.get("is_best")] or history
  ax.axvline(best[-1]["epoch"], color="gray", linestyle=":", label=f"kept weights (epoch {best[-1]['epoch']})")
  if log_scale:
    ax.set_yscale("log")
  ax.set_xlabel("epoch")
  ax.set_ylabel("loss")
  ax.legend()
  ax.grid(alpha=0.3)
  save_figure(fig, path)

"""The repetition plot: joint angles, per-frame probability, detected and true repetition starts."""

from __future__ import annotations

import pathlib

import numpy as np

from research.evaluation.plots import literal_text, plt, save_figure


@literal_text
def reps_plot(path, *, angles_TF, joint_names, seg_prob_T, peaks, segments, class_names, fps: float,
              true_starts=None, height: float | None = None, max_joints: int = 6) -> pathlib.Path:
  """Writes `path`: the most moving joint angles on top, the probability with peaks below.

  Predicted exercise segments are shaded and named; true starts (when known) are ticks.
  """
  path = pathlib.Path(path)
  angles_TF = np.asarray(angles_TF)
  time_T = np.arange(len(seg_prob_T)) / fps
  fig, (top, bottom) = plt.subplots(2, 1, figsize=(14, 6), sharex=True,
                                    gridspec_kw={"height_ratios": [3, 2]})
  moving = np.argsort(-np.nanstd(angles_TF, 0))[:max_joints]
  for j in moving:
    top.plot(time_T, angles_TF[:, j], lw=0.8, label=joint_names[j])
  top.set_ylabel("angle (degrees)")
  top.legend(loc="upper right", fontsize=7, ncol=3)
  bottom.plot(time_T, seg_prob_T, lw=0.8, color="k", label="P(repetition start)")
  peaks = np.asarray(peaks, np.int64)
  bottom.plot(time_T[peaks], np.asarray(seg_prob_T)[peaks], "rv", ms=5, label=f"detected ({len(peaks)})")
  if true_starts is not None:
    true_starts = np.asarray(true_starts, np.int64)
    bottom.plot(time_T[true_starts], np.full(len(true_starts), -0.08), "g|", ms=8,
                label=f"true starts ({len(true_starts)})")
  if height is not None:
    bottom.axhline(height, color="r", lw=0.5, ls="--")
  for segment in segments:
    for ax in (top, bottom):
      ax.axvspan(segment["start"] / fps, segment["end"] / fps, color="tab:blue", alpha=0.08)
    top.text(segment["start"] / fps, top.get_ylim()[1], f"{class_names[segment['label']]} x{segment['count']}",
             fontsize=7, va="top")
  bottom.set_ylim(-0.15, 1.05)
  bottom.set_xlabel("time (s)")
  bottom.legend(loc="upper right", fontsize=7)
  fig.tight_layout()
  save_figure(fig, path)
  return path

"""What a run writes about itself: its history and progress while it trains, its report after.

`report` evaluates the run in a workdir on one split: report.json/.md, plots,
history.jsonl (from the checkpoint), test_predictions.json for an unlabelled test
split. The report states the trivial baseline and an interval.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import sys
import tempfile

import numpy as np
import tqdm

from research import evaluation
from research import workdir as workdir_lib
from research.data import dataset as dataset_lib
from research.train import trained as run_lib


class Recorder:
  """After every epoch: history.jsonl, TensorBoard scalars and a progress line (first member)."""

  def __init__(self, workdir: pathlib.Path, config):
    from tensorboardX import SummaryWriter  # Only training writes events.
    self.workdir, self.config = workdir, config
    self.events = SummaryWriter(str(workdir / "tensorboard"))
    self.bar = (tqdm.tqdm(total=config.train.epochs, unit="epoch") if sys.stdout.isatty() else None)

  def epoch(self, histories: list[list[dict]]) -> None:
    workdir_lib.write_history(self.workdir / "history.jsonl", history_rows(histories))
    row = histories[0][-1] if histories[0] else None
    if row is None:
      return
    for key, value in row.items():
      if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "epoch":
        self.events.add_scalar(key, value, row["epoch"])
    self.events.flush()
    monitor = self.config.train.monitor
    summary = " ".join(f"{k} {row[k]:.4g}" for k in dict.fromkeys(["loss", "val_loss", monitor]) if k in row)
    summary += f" lr {row['lr']:.3g}"
    if self.bar is not None:
      self.bar.n = row["epoch"]
      self.bar.set_postfix_str(summary)
    else:
      print(f"epoch {row['epoch']}: {summary} ({row['seconds']:.1f}s)", flush=True)

  def close(self):
    self.events.close()
    if self.bar is not None:
      self.bar.close()


def history_rows(histories: list[list[dict]]) -> list[dict]:
  """history.jsonl's rows: one per epoch, or per epoch and member (`member`) for an ensemble."""
  if len(histories) == 1:
    return histories[0]
  return [{**row, "member": m} for m, rows in enumerate(histories) for row in rows]


def _val_metrics(run: run_lib.Run, dataset: dataset_lib.Dataset, best_row: dict | None) -> dict:
  """Validation numbers for the report: the best epoch's, or the head's accuracy on val."""
  if run.head is None:
    return {k: v for k, v in (best_row or {}).items() if k.startswith("val_")}
  if len(dataset.val["y"]) == 0:
    return {}
  probs = run.predict(dataset.val)["probs"]
  return {"val_accuracy": float((probs.argmax(1) == dataset.val["y"]).mean())}


def _unlabelled_predictions(run: run_lib.Run, dataset: dataset_lib.Dataset, workdir: pathlib.Path) -> int:
  """Predicts a test split that has no labels (y = -1) into test_predictions.json; returns its size."""
  test = dataset.test
  names = run.meta.get("test_files")
  if not len(test["y"]) or not names or (np.asarray(test["y"]) >= 0).any():
    return 0
  probs = run.predict(test)["probs"]
  class_names = list(run.meta["class_names"])
  rows = [prediction_row(name, p, class_names) for name, p in zip(names, probs)]
  workdir_lib.write_text_atomic(workdir / "test_predictions.json", json.dumps(
      {"workdir": str(workdir), "predictions": rows}, indent=2) + "\n")
  return len(rows)


def predict_inputs(workdir, path, batch_size: int) -> list[dict]:
  """`prediction_row`s of a classification run in `workdir` for the inputs at `path` (files or a
  folder, read as the run's data were; research.data.inputs), with `frames` for padded sequences."""
  from research.data import inputs
  run = run_lib.load_run(workdir)
  if not run.meta.get("class_names"):
    raise ValueError(f"{workdir} is a {run.config.task.name!r} run without class names; "
                     f"predict.py serves classifiers")
  names, batch = inputs.read_for_prediction(path, run.config.data, run.meta)
  outputs = run.predict(batch, batch_size)
  if "probs" not in outputs:
    raise ValueError(f"the {run.config.task.name!r} task predicts {sorted(outputs)}, not class 'probs'")
  rows = [prediction_row(name, p, run.meta["class_names"]) for name, p in zip(names, outputs["probs"])]
  if "mask" in batch:
    for row, valid in zip(rows, batch["mask"]):
      row["frames"] = int(valid.sum())
  return rows


def count_repetitions(workdir, recording_path, *, stride: int | None = None, counting: dict | None = None,
                      plot_dir=None) -> dict:
  """Counts the repetitions of one recording with the workout run in `workdir` (launch/count_reps.py).

  `counting` overrides the run's config.eval.counting; `stride` defaults to the run's test
  stride. Draws <plot_dir or workdir/plots>/reps_<name>.png; returns the segments and counts.
  """
  from research.data.formats import workout
  from research.evaluation import count_recording, counting_plots
  run = run_lib.load_run(workdir)
  meta = run.meta
  if "counting" not in run.config.get("eval", {}) or run.config.task.name != "classify_and_segment":
    raise ValueError(f"{workdir} is a {run.config.task.name!r} run ({run_lib.name(run.config)}); counting "
                     "repetitions needs a workout-tracker run (launch/train.py --config configs/tcn.py)")
  settings = {**run.config.eval.counting.to_dict(), **(counting or {})}
  recording = workout.read_recording(recording_path, meta["class_names"], len(meta["feature_layout"]),
                                     require_labels=False)
  stride = stride or int(meta.get("stride", {}).get("test", 5))
  result, traces = count_recording.count_recording(run.predict, meta, recording, stride=stride,
                                                   counting_config=settings)
  plot_dir = pathlib.Path(plot_dir) if plot_dir else pathlib.Path(workdir) / "plots"
  plot = counting_plots.reps_plot(
      plot_dir / f"reps_{recording.name}.png", angles_TF=recording.angles, joint_names=meta["feature_layout"],
      seg_prob_T=traces["seg_prob"], peaks=traces["peaks"], segments=traces["segments"],
      class_names=meta["class_names"], fps=recording.fps, true_starts=recording.rep_starts,
      height=result["counting"]["height"])
  return {**result, "plot": str(plot)}


def prediction_text(rows: list[dict]) -> str:
  """How predict.py prints predictions: every class probability for one input, one line per input else."""
  if len(rows) == 1:
    row = rows[0]
    lines = [f"Prediction: {row['label']}", f"Confidence: {row['confidence']:.4f}", "", "Class probabilities:"]
    return "\n".join(lines + [f"  {name}: {p:.4f}" for name, p in row["probs"].items()])
  return "\n".join(f"{row['input']}: {row['label']} ({row['confidence']:.4f})" for row in rows)


def prediction_row(name: str, probs, class_names) -> dict:
  """One prediction as predict.py and test_predictions.json write it (probabilities in class order)."""
  best = int(np.argmax(probs))
  return {"input": name, "label": class_names[best], "class_id": best, "confidence": float(probs[best]),
          "probs": {c: float(v) for c, v in zip(class_names, probs)}}


def report(workdir, split_name: str | None = None, dataset: dataset_lib.Dataset | None = None) -> dict:
  """Evaluates the run on `split_name` (None: its config.eval.split); writes report.json, report.md,
  plots (and history.jsonl).

  The history comes from the checkpoint (the source of truth): history.jsonl is
  rewritten from it, so an edited or half-written history file changes nothing.
  """
  return _evaluate(pathlib.Path(workdir), split_name, dataset, write=True)[0]


def preview(workdir, split_name: str | None = None) -> str:
  """The report's Markdown for the newest committed checkpoint, writing nothing in `workdir`: what
  evaluate prints while a training holds the workdir (its history, plots and report stay the trainer's)."""
  return _evaluate(pathlib.Path(workdir), split_name, None, write=False)[1]


def _labelled(split: dict) -> bool:
  return not len(split["y"]) or bool((np.asarray(split["y"]) >= 0).any())


def _evaluate(workdir: pathlib.Path, split_name, dataset, write: bool) -> tuple[dict, str]:
  run = run_lib.load_run(workdir)
  split_name = split_name or run.config.get("eval", {}).get("split", "test")
  if dataset is None:
    from research.data import load_dataset  # Re-reads the data the run was trained on.
    dataset = load_dataset(run.config)
  split = dataset.split(split_name)
  if not _labelled(split):
    other = sorted(n for n in ("train", "val", "test") if n != split_name and _labelled(dataset.split(n))
                   and len(dataset.split(n)["y"]))
    raise ValueError(f"the {split_name} split of {workdir} has no labels (its files carry none), so there is "
                     f"nothing to score: evaluate {' or '.join('--split ' + n for n in other) or 'a labelled split'}"
                     ", or predict it with launch/predict.py")
  history = run.history
  if run.histories and write:
    workdir_lib.write_history(workdir / "history.jsonl", history_rows(run.histories))
  best_row = workdir_lib.best_row(history) if any(row["is_best"] for row in history) else None
  predictions = run.predict(split)
  with contextlib.ExitStack() as stack:
    # Not written: the plots go to a folder that vanishes (the Markdown still names them plots/...).
    plots_dir = (workdir if write else pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory()))) / "plots"
    if history:
      from research.evaluation import plots  # matplotlib only when reporting.
      plots.plot_loss(history, plots_dir / "loss.png", log_scale=run.config.task.name == "regression")
    reference = evaluation.reference_predictions(run.config.data, split)
    result, markdown = evaluation.REPORTS[run.config.task.name](
        split=split, predictions=predictions, meta=run.meta, history=history,
        val_metrics=_val_metrics(run, dataset, best_row), plots_dir=plots_dir, split_name=split_name,
        eval_config=run.config.get("eval"), **({"reference": reference} if reference else {}))
  result = {**result, "model": run_lib.name(run.config), "workdir": str(workdir),
            "best_epoch": best_row["epoch"] if best_row else 0}
  if run.num_members > 1:
    result["ensemble"] = {"members": run.num_members,
                          "best_epochs": [workdir_lib.best_row(h)["epoch"] if h else 0 for h in run.histories]}
    markdown += (f"\nEnsemble of {run.num_members} members (seeds {run.config.seed}..."
                 f"{run.config.seed + run.num_members - 1}): predictions are the mean of their probabilities.\n")
  if run.meta.get("validation"):
    result["validation"] = run.meta["validation"]
    markdown += f"\n{run.meta['validation']}\n"
  if run.head is not None:
    result["head"] = {**run.head.settings(), "fit": run.head.fit_info}
    markdown += _head_markdown(run)
  if not write:
    return result, markdown
  count = _unlabelled_predictions(run, dataset, workdir)
  if count:
    result["test_predictions"] = count
  workdir_lib.write_json_atomic(workdir / "report.json", result)
  workdir_lib.write_text_atomic(workdir / "report.md", markdown)
  return result, markdown


def _head_markdown(run: run_lib.Run) -> str:
  settings, info = run.head.settings(), run.head.fit_info
  source = "the network's encoder" if run.feature_map is None else f"{run.feature_map.kind} features"
  text = f"\nHead: {settings['kind']} on {source}.\n"
  if info.get("grid_search"):
    text += (f"Grid search ({info['folds']}-fold, {info['scoring']}): best {info['best_params']}, "
             f"CV score {info['best_cv_score']:.4f}.\n")
  return text

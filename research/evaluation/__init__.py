"""Reports by task name: `REPORTS[task](**inputs) -> (report dict, markdown)`.

Inputs: split (numpy arrays), predictions (task.predict, numpy), meta, history,
val_metrics, plots_dir, split_name. Every report states its trivial baseline,
an interval, and says in words when the model does not beat the baseline.
"""

from __future__ import annotations

from research.evaluation import classification
from research.evaluation import multitask
from research.evaluation import regression

REPORTS = {
    "classification": classification.report,
    "multitask": multitask.report,
    "regression": regression.report,
}

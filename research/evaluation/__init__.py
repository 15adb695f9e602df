"""Reports by task name: `REPORTS[task](**inputs) -> (report dict, markdown)`.

Inputs: split (numpy arrays), predictions (task.predict, numpy), meta, history,
val_metrics, plots_dir, split_name, eval_config (config.eval: the classify_and_segment
report reads its `counting` settings), and for regression an optional `reference`
(`reference_predictions`: what a known-optimal predictor scores). Every report
states its trivial baseline, an interval, and says in words when the model does
not beat the baseline; names from the data are escaped in the Markdown
(`research.evaluation.markdown`) and drawn literally in plots (`plots.literal_text`).
"""

from __future__ import annotations

from research.evaluation import classification
from research.evaluation import classify_and_segment
from research.evaluation import mixture_floor
from research.evaluation import regression

REPORTS = {
    "classification": classification.report,
    "classify_and_segment": classify_and_segment.report,
    "regression": regression.report,
}

# Data name -> (description, fn(data_config, split) -> predictions shaped like split["y"]).
REFERENCES = {
    "mixture": ("approximate Bayes floor of a causal filter (posterior mean over the signal offset)",
                mixture_floor.predict),
}


def reference_predictions(data_config, split) -> dict | None:
  """{"name", "value"} of the dataset's reference predictor for `split`, or None."""
  if data_config.name not in REFERENCES:
    return None
  name, predict = REFERENCES[data_config.name]
  return {"name": name, "value": predict(data_config, split)}

"""The training engine: `fit`, and reading a trained run back with `load_run`."""

from research.train.loop import Run, TrainingError, fit, load_run, predict_arrays, report

__all__ = ["Run", "TrainingError", "fit", "load_run", "predict_arrays", "report"]

"""The training engine: `fit` a run into a workdir, `load_run` it back, `train_runs` for studies."""

from research.train.loop import fit, report
from research.train.multirun import RunSpec, TrainingError
from research.train.run import NotExportableError, Run, load_run, train_runs

__all__ = ["NotExportableError", "Run", "RunSpec", "TrainingError", "fit", "load_run", "report", "train_runs"]

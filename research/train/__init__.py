"""The training engine: `fit` a run into a workdir, `load_run` it back, `train_runs` for studies.

run.py is the one path (config -> checked once -> data prepared once -> runs -> workdir),
loop.py the host loop over many runs (specs.py what it takes and gives back), engine.py the
compiled epoch, reporting.py what a run writes about itself, trained.py a trained run and how it
is read back. A run without a network imports neither loop.py nor engine.py (nor flax, optax).
"""

from research.train.reporting import report
from research.train.run import Trained, check_config, fit, train_runs
from research.train.specs import RunSpec, TrainingError
from research.train.trained import NotExportableError, Run, load_run

__all__ = ["NotExportableError", "Run", "RunSpec", "Trained", "TrainingError", "check_config", "fit", "load_run",
           "report", "train_runs"]

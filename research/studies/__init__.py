"""Research workflows over the engine: cross-validation, ablations, transfer gap, sweeps, benchmark tables,
and the classifier chosen by cross-validation (auto.py, run by launch/train.py --config configs/auto.py).

Library side of launch/cv.py, launch/ablate.py, launch/transfer.py, launch/sweep.py and
launch/benchmark.py (the launchers only parse flags). Each study checks its configs once
where it starts and trains through research.train.train_runs. Depends on research.train,
research.evaluation, research.heads and research.data.
"""

"""Research workflows over the engine: cross-validation, ablations, transfer gap, forest runs.

Library side of launch/cv.py, launch/ablate.py, launch/transfer.py and
launch/sweep.py and launch/forest.py (the launchers only parse flags). Depends on research.train,
research.evaluation, research.heads and research.data.
"""

"""The classifier chosen for your data (MultiRocket-Hydra, MiniRocket or QUANT) by CV on its training split.

Candidates (config.auto.candidates: configs/ names, `:variant` allowed) take this config's data,
seed and cv groups and are cross-validated on the same folds of the training split only; the best
mean CV accuracy wins (a tie: the one listed first) and trains on the whole training split as an
ordinary run in the workdir (research/studies/auto.py; auto_report.md lists every candidate).

Run:   python launch/train.py --config configs/auto.py --config.data.path=X_TRAIN.ts
           [--config.auto.candidates=minirocket,quant] [--config.cv.folds=5]
Time:  about 6 fits of each candidate: 12 s (BasicMotions) to 71 s (ACSF1) per aeon
       bundled set on a 2-core CPU, compilation cache warm.
Reach: within a point of the best single candidate's test accuracy on 6 of 8 aeon bundled sets
       (3-4 points behind on PickupGestureWiimoteZ and ACSF1; docs/small_data.md).
Smoke: --config configs/auto.py:smoke (the candidates' smoke variants, 12 + 8 short series, 2 folds).
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults


def get_config(arg=None):
  config = config_defaults.base(seed=0, variant=arg, variants=("smoke",), file=__file__, cv={"group_by": ""})

  config.data = data_defaults.ts_data()  # every candidate reads these data
  config.data.val_fraction = 0.0  # none: the default candidates need no validation split

  config.auto = ml_collections.ConfigDict()
  # Comma-separated configs/ names[:variant]. A tie goes to the first listed: MultiRocket-Hydra ranks
  # above MiniRocket and QUANT in the published UCR comparisons and in docs/small_data.md.
  config.auto.candidates = "multirocket_hydra,minirocket,quant"

  if arg == "smoke":
    config.data.synthetic.update(data_defaults.SMOKE_SERIES)
    config.auto.candidates = "multirocket_hydra:smoke,minirocket:smoke,quant:smoke"
    config.cv.folds = 2
  return config

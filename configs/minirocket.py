"""MiniRocket + a ridge classifier: the strong small-data baseline for time-series classification.

~10,000 features from 84 fixed kernels (Dempster et al. 2021; research/heads/minirocket.py), a
ridge whose alpha is chosen by leave-one-out error (research/heads/ridge.py). No network, no
validation split (config.train.validation = "none"). Data: a synthetic set the size of UEA
BasicMotions, any .ts file (--config.data.path=X_TRAIN.ts) or npz (--config.data.name=npz).

Run:   python launch/train.py --config configs/minirocket.py
       python launch/benchmark.py --configs minirocket --datasets BasicMotions,GunPoint
       python launch/export.py --workdir DIR
Time:  3.2-4.7 s a process on a 2-core CPU for aeon's bundled sets (BasicMotions to ACSF1), 4.1-5.7 s
       with no cache; 0.75-0.95x aeon's own process (benchmarks/first_start.py).
Reach: test accuracy about 1.0 on BasicMotions.
Smoke: --config configs/minirocket.py:smoke (12 + 8 short series, 840 features).
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults
from research.heads import ridge


def get_config(arg=None):
  config = config_defaults.base(seed=0, variant=arg, variants=("smoke",), file=__file__, cv={"group_by": ""})

  config.data = data_defaults.ts_data()
  config.data.val_fraction = 0.0  # none: the ridge chooses its alpha by leave-one-out

  config.model = ml_collections.ConfigDict()
  config.model.name = "none"  # no network: the head is fitted on MiniRocket features

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"

  config.features = ml_collections.ConfigDict()
  config.features.num_features = 10_000
  config.features.max_dilations_per_kernel = 32
  config.features.use_mask = False

  config.head = ml_collections.ConfigDict()
  config.head.kind = "ridge"
  config.head.features = "minirocket"
  config.head.ridge = ml_collections.ConfigDict()
  config.head.ridge.alphas = ridge.DEFAULT_ALPHAS  # logspace(-3, 3, 10), chosen by leave-one-out
  config.head.ridge.standardize = True  # features scaled by their training-split std (as aeon)

  config.train = config_defaults.train(eval_batch_size=256, validation="none")


  if arg == "smoke":
    config.data.synthetic.update(data_defaults.SMOKE_SERIES)
    config.features.num_features = 840
    config.cv.folds = 2
  return config

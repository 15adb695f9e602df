"""Random Forest on time-domain features of sEMG windows (MAV, RMS, WL, ZC): the deployment baseline.

100 trees with the seed's grid search (n_estimators, max_depth, min_samples_split; 5-fold); same
data as configs/maxcrnn.py; reported on validation (source L3) and test (target L4).

Run:   python launch/train.py --config configs/random_forest.py
       python launch/cv.py --config configs/random_forest.py --folds 5
       python launch/export.py --workdir DIR   (C for a microcontroller)
Time:  under a minute on a 2-core CPU; seconds without the grid.
Reach: 5-fold CV on L3 about 0.7; the L4 test drops to about 0.4 (the transfer gap).
Smoke: --config configs/random_forest.py:smoke (tiny data, 2-cell grid).
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults


def get_config(arg=None):
  config = config_defaults.base(seed=1738, variant=arg, variants=("smoke",), file=__file__)  # the forest's random_state

  config.data = data_defaults.semg_data()

  config.model = ml_collections.ConfigDict()
  config.model.name = "none"  # no network: the head is fitted on hand-made features

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"  # the report used

  config.features = ml_collections.ConfigDict()
  config.features.names = ("mav", "rms", "wl", "zc")
  config.features.threshold = 0.0  # ZC/SSC/WAMP amplitude threshold (units of x)

  config.head = ml_collections.ConfigDict()
  config.head.kind = "random_forest"
  config.head.features = "handmade"  # config.features, per channel
  config.head.forest = ml_collections.ConfigDict()
  config.head.forest.n_estimators = 100
  config.head.forest.max_features = "sqrt"
  config.head.forest.bootstrap = True
  config.head.forest.max_depth = 0  # 0 = no limit (None)
  config.head.forest.min_samples_split = 2
  config.head.forest.n_jobs = 1  # the machine is shared; -1 uses every core
  config.head.forest.grid_search = True
  config.head.forest.grid_folds = 5
  config.head.forest.scoring = "accuracy"
  config.head.forest.grid = ml_collections.ConfigDict()
  config.head.forest.grid.n_estimators = (50, 100, 200)
  config.head.forest.grid.max_depth = (0, 10, 20)
  config.head.forest.grid.min_samples_split = (2, 5, 10)

  config.train = config_defaults.train(eval_batch_size=256)  # only the batch for features (none here)


  if arg == "smoke":
    config.data.window = 256
    config.data.synthetic.windows_per_class = 8
    config.data.synthetic.subjects = 2
    config.head.forest.n_estimators = 10
    config.head.forest.grid.n_estimators = (5, 10)
    config.head.forest.grid.max_depth = (0,)
    config.head.forest.grid.min_samples_split = (2,)
    config.head.forest.grid_folds = 2
    config.cv.folds = 2
  return config

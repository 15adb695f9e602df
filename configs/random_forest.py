"""Random Forest on time-domain features of sEMG windows: the deployment baseline.

Features per channel: MAV, RMS, WL, ZC (the classic set; add ssc, var, wamp, mnf,
mdf via --config.features.names). Forest: 100 trees, sqrt features per split,
bootstrap, random_state 1738; GridSearchCV over n_estimators 50/100/200,
max_depth None/10/20 (0 = None here), min_samples_split 2/5/10, 5-fold,
accuracy (the seed's grid). Fitted on the train split (the grid's own folds
validate); reported on val (source domain) and test (target domain L4).

Same data as configs/maxcrnn.py (embedded synthetic set, per-window z-score;
with z-scored windows RMS is 1 by construction, so MAV/WL/ZC carry the shape).

Run:   python launch/train.py --config configs/random_forest.py
       python launch/cv.py --config configs/random_forest.py --folds 5
       python launch/export.py --workdir DIR   (C for a microcontroller: TFLite has no tree op)
Time:  ~30-60 s on a 2-core CPU (27 grid cells x 5 folds); seconds without the grid.
Reach (measured, default data): 5-fold CV on L3 0.70 +- 0.09; source val 0.725,
       L4 test 0.41 (a 31.5 pp transfer gap; amplitude/spectral features move
       with gain, noise floor and electrode shift).
Smoke: --config configs/random_forest.py:smoke (tiny data, 2-cell grid).
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults


def get_config(arg=None):
  config = ml_collections.ConfigDict()
  config.seed = 1738  # the forest's random_state

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

  config.eval = ml_collections.ConfigDict()
  config.eval.split = "test"

  config.cv = ml_collections.ConfigDict()
  config.cv.folds = 5
  config.cv.seed = 1738
  config.cv.val_fraction = 0.15  # unused by the forest except to match the neural folds
  config.cv.group_by = "auto"  # a data key (e.g. subject) for leave-groups-out; "" for none

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
  elif arg not in (None, ""):
    raise ValueError(f"Unknown variant {arg!r} of configs/random_forest.py; valid: smoke")
  return config

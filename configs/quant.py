"""QUANT + extremely randomised trees: interval quantiles, strong on small sets and on sEMG.

Features (Dempster, Schmidt & Webb 2024; research/heads/quant.py): quantiles of a fixed dyadic set of
intervals (and the same shifted by half their length) of the series, its first and second
differences and |DFT|, every second one relative to the interval's mean; deterministic. Head:
ExtraTreesClassifier, 200 trees, entropy, 10% of the features per split (research/heads/extra_trees.py).
No network, no epochs; validation examples join training. Unequal lengths are zero-padded.

Run:   python launch/train.py --config configs/quant.py [--config.data.path=X_TRAIN.ts]
Time:  about 4 s a process on the default synthetic set (2-core CPU).
Reach: within a point of aeon's QUANTClassifier on its bundled sets (docs/small_data.md).
Smoke: --config configs/quant.py:smoke (12 + 8 short series, 20 trees).
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults


def get_config(arg=None):
  config = config_defaults.base(seed=0, variant=arg, variants=("smoke",), file=__file__, cv={"group_by": ""})

  config.data = data_defaults.ts_data()
  config.data.val_fraction = 0.0  # none: the trees need no validation split

  config.model = ml_collections.ConfigDict()
  config.model.name = "none"  # no network: the head is fitted on QUANT features

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"

  config.features = ml_collections.ConfigDict()
  config.features.depth = 6  # interval levels: 1, 2, 4, ..., 2**(depth - 1) intervals
  config.features.divisor = 4  # an interval of w frames gives 1 + (w - 1) // divisor quantiles
  config.features.use_mask = False  # True is refused: QUANT reads unequal lengths zero-padded

  config.head = ml_collections.ConfigDict()
  config.head.kind = "extra_trees"
  config.head.features = "quant"
  config.head.extra_trees = ml_collections.ConfigDict()
  config.head.extra_trees.n_estimators = 200
  config.head.extra_trees.criterion = "entropy"
  config.head.extra_trees.max_features = 0.1  # fraction of the features tried at each split
  config.head.extra_trees.n_jobs = 1  # -1 uses every core

  config.train = config_defaults.train(eval_batch_size=256, validation="none")

  if arg == "smoke":
    config.data.synthetic.update(data_defaults.SMOKE_SERIES)
    config.head.extra_trees.n_estimators = 20
    config.cv.folds = 2
  return config

"""MultiRocket-Hydra + the leave-one-out ridge: two convolutional transforms side by side.

Features (research/heads/hydra.py, research/heads/multirocket.py): Hydra's groups of random dilated
kernels competing at every step (win counts), and MultiRocket's MiniRocket kernels with quantile
biases pooled four ways (PPV, longest stretch, mean of positive values, mean index), each on the
series and its first difference; scaled as aeon's MultiRocketHydraClassifier, then the ridge
(research/heads/ridge.py). Deterministic given config.seed. Unequal lengths are zero-padded.

Run:   python launch/train.py --config configs/multirocket_hydra.py [--config.data.path=X_TRAIN.ts]
Time:  about 5.4 s a process on the default synthetic set with the compilation cache warm, 7 s
       cold (2-core CPU; benchmarks/second_start.py); 11-18 s on aeon's OSULeaf and ACSF1.
Reach: within a point of aeon's MultiRocketHydraClassifier on its bundled sets (docs/small_data.md).
Smoke: --config configs/multirocket_hydra.py:smoke (12 + 8 short series, fewer kernels).
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
  config.model.name = "none"  # no network: the head is fitted on MultiRocket-Hydra features

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"

  config.features = ml_collections.ConfigDict()
  config.features.multirocket_features = 6_250  # per representation; 84 x (6250 // 84) used, x 4 pools
  config.features.max_dilations_per_kernel = 32
  config.features.hydra_kernels = 8  # kernels per group
  config.features.hydra_groups = 64  # groups, half on the series and half on its difference
  config.features.use_mask = False  # True is refused: series are read zero-padded

  config.head = ml_collections.ConfigDict()
  config.head.kind = "ridge"
  config.head.features = "multirocket_hydra"
  config.head.ridge = ml_collections.ConfigDict()
  config.head.ridge.alphas = ridge.DEFAULT_ALPHAS  # logspace(-3, 3, 10), chosen by leave-one-out
  config.head.ridge.standardize = False  # the feature map already scales its features (as aeon)

  config.train = config_defaults.train(eval_batch_size=256, validation="none")

  if arg == "smoke":
    config.data.synthetic.update(data_defaults.SMOKE_SERIES)
    config.features.multirocket_features = 840
    config.features.hydra_groups = 16
    config.cv.folds = 2
  return config

"""MultiRocket-Hydra + a ridge classifier: two convolutional transforms side by side.

Features (research/heads/hydra.py, research/heads/multirocket.py): Hydra's 64 groups of 8 random
dilated kernels competing at every time step (counts of wins: soft for the largest output, hard
for the smallest), half on the series and half on its first difference; MultiRocket's 84
MiniRocket kernels with quantile biases on the series and its difference, each (kernel, bias)
pooled four ways (PPV, longest stretch, mean of positive values, mean index of positive values):
~50,000 features. Hydra's counts go through the sparse scaler (square root, zeros kept),
MultiRocket's through a standard scaler, both fitted on the training split, then the
leave-one-out ridge (alphas logspace(-3, 3, 10); research/heads/ridge.py) with no scaling of its
own: aeon's MultiRocketHydraClassifier (Dempster, Schmidt & Webb 2023; Tan et al. 2022).
Deterministic given config.seed (our draws, not torch's or numba's).

No network, no epochs, no validation split: the ridge's leave-one-out picks its alpha.

Data: with data.path empty, a synthetic multivariate set the size of UEA BasicMotions
(4 classes, 40 + 40 series, 6 channels x 100 steps). Any UEA/UCR `.ts` file:
       --config.data.path=/data/BasicMotions/BasicMotions_TRAIN.ts (TEST beside it)
Series need at least 10 frames. Unequal lengths are read zero-padded at the end (as the reference
implementations are run on them); features.use_mask=True is refused.

Run:   python launch/train.py --config configs/multirocket_hydra.py
       python launch/benchmark.py --configs multirocket_hydra --datasets BasicMotions,GunPoint
Time:  20-55 s per aeon set (fit + predict, one pinned core of a loaded 2-core CPU), most of it XLA
       compiling the transforms (new kernels per seed are new constants); aeon takes 3-6 s there.
       Accuracy within a few test examples of aeon's MultiRocketHydraClassifier on the sets tried
       (python benchmarks/small_data.py --methods multirocket_hydra; benchmarks/recorded/).
Export: none yet (no TFLite form of the counts and pooling written).
Smoke: --config configs/multirocket_hydra.py:smoke (12 + 8 short series, 4 x 840 + Hydra features).
"""

import ml_collections

from research import config_defaults
from research.data import ts_format
from research.heads import ridge


def get_config(arg=None):
  config = ml_collections.ConfigDict()
  config.seed = 0  # Hydra's kernels, MultiRocket's channel combinations and bias examples

  config.data = ts_format.data_config()
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

  config.eval = ml_collections.ConfigDict()
  config.eval.split = "test"

  config.cv = ml_collections.ConfigDict()
  config.cv.folds = 5
  config.cv.seed = 0
  config.cv.val_fraction = 0.15
  config.cv.group_by = ""

  if arg == "smoke":
    config.data.synthetic.update({"classes": 3, "train": 12, "test": 8, "dims": 2, "min_length": 20,
                                  "max_length": 30, "problem": "SmokeMotions"})
    config.features.multirocket_features = 840
    config.features.hydra_groups = 16
    config.cv.folds = 2
  elif arg not in (None, ""):
    raise ValueError(f"Unknown variant {arg!r} of configs/multirocket_hydra.py; valid: smoke")
  return config

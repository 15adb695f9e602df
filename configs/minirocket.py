"""MiniRocket + a ridge classifier: the strong small-data baseline for time-series classification.

Features (Dempster et al. 2021; research/heads/minirocket.py): 84 fixed kernels of length 9
(weights -1 and 2), dilations spread exponentially up to the series length, biases from
quantiles of the training set's convolution outputs, ~10,000 proportion-of-positive-values
features; multivariate series use random channel combinations per kernel. Head: ridge
regression on one-hot targets with alpha chosen by leave-one-out error among 10 values
logspace(-3, 3) (scikit-learn's RidgeClassifierCV, written in JAX: research/heads/ridge.py),
features standardized on the training split. Deterministic given config.seed.

No network, no epochs, no validation split: the ridge's leave-one-out picks its alpha, so
the validation examples join the training set (config.train.validation = "none").

Data: with data.path empty, a synthetic multivariate set the size of UEA BasicMotions
(4 classes, 40 + 40 series, 6 channels x 100 steps). Any UEA/UCR `.ts` file:
       --config.data.path=/data/BasicMotions/BasicMotions_TRAIN.ts (TEST beside it)
npz:   --config.data.name=npz --config.data.path=data.npz
Unequal lengths are zero-padded at the end, as the reference implementations are run on them;
--config.features.use_mask=True treats every series as if given alone (measured: JapaneseVowels
0.981 masked vs 0.989 padded, PickupGestureWiimoteZ 0.76 vs 0.86; python benchmarks/small_data.py).

Run:   python launch/train.py --config configs/minirocket.py
       python launch/benchmark.py --configs minirocket --datasets BasicMotions,GunPoint
       python launch/export.py --workdir DIR   (TFLite: fixed convolutions, comparisons, means, one dense)
Time:  14 s for the default synthetic set (loaded 2-core CPU, compile cache off); 2-60 s per
       aeon set, compilation included (`python launch/benchmark.py --configs minirocket ...`).
Smoke: --config configs/minirocket.py:smoke (12 + 8 short series, 840 features).
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults
from research.heads import ridge


def get_config(arg=None):
  config = ml_collections.ConfigDict()
  config.seed = 0  # kernels' channel combinations and the examples the biases come from

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
    config.features.num_features = 840
    config.cv.folds = 2
  elif arg not in (None, ""):
    raise ValueError(f"Unknown variant {arg!r} of configs/minirocket.py; valid: smoke")
  return config

"""QUANT + extremely randomised trees: an interval method, strong on small time-series sets.

Features (Dempster, Schmidt & Webb 2024; research/heads/quant.py): quantiles over a fixed dyadic
set of intervals (depth 6: 1, 2, ..., 32 intervals, plus the same shifted by half their length) of
four representations of every channel (the series, its smoothed first difference, its second
difference, |DFT|); 1 + (w - 1) // 4 quantiles per interval of w frames, every second one relative
to the interval's mean. Nothing is random in the features: config.seed decides the trees only.
Head: scikit-learn ExtraTreesClassifier, 200 trees, entropy, 10% of the features per split (the
authors' choice; research/heads/extra_trees.py), stored as arrays + JSON (no pickle).

No network, no epochs, no validation split (trees need none): validation examples join training.

Data: with data.path empty, a synthetic multivariate set the size of UEA BasicMotions
(4 classes, 40 + 40 series, 6 channels x 100 steps). Any UEA/UCR `.ts` file:
       --config.data.path=/data/BasicMotions/BasicMotions_TRAIN.ts (TEST beside it)
npz:   --config.data.name=npz --config.data.path=data.npz
Unequal lengths are read zero-padded at the end to the training array's length (QUANT places its
intervals on one length); features.use_mask=True is refused.

Run:   python launch/train.py --config configs/quant.py
       python launch/benchmark.py --configs quant --datasets BasicMotions,GunPoint
       python launch/cv.py --config configs/quant.py --nouse_baseline
Time:  ~10 s for the default synthetic set on a loaded 2-core CPU (QUANT features in NumPy, well
       under 1 s; 200 trees a few s); fit + predict 0.6-9 s per aeon set, like aeon's
       (python benchmarks/small_data.py --methods quant).
Reach: test accuracy within a point of aeon's QUANTClassifier on its bundled sets, mean of 5 seeds
       (benchmarks/recorded/small_data_quant_multirocket_hydra.md).
Export: none yet (sorts have no TFLite builtin; a C back end for QUANT is future work).
Smoke: --config configs/quant.py:smoke (12 + 8 short series, 20 trees).
"""

import ml_collections

from research import config_defaults
from research.data import ts_format


def get_config(arg=None):
  config = ml_collections.ConfigDict()
  config.seed = 0  # the trees' random_state (the features are deterministic)

  config.data = ts_format.data_config()
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
  config.head.extra_trees.n_jobs = 1  # the machine is shared; -1 uses every core

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
    config.head.extra_trees.n_estimators = 20
    config.cv.folds = 2
  elif arg not in (None, ""):
    raise ValueError(f"Unknown variant {arg!r} of configs/quant.py; valid: smoke")
  return config

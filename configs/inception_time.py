"""InceptionTime (Ismail Fawaz et al. 2020): an ensemble of Inception networks for time series.

Model (research/models/inception_time.py): 6 Inception modules of 32 filters (bottleneck 32,
kernels 39/19/9 = the paper's 40/20/10 made odd as the authors' code does, a max-pool branch),
BatchNorm + ReLU, a residual shortcut every 3 modules, global average pooling over valid frames,
dense softmax. ~0.4M parameters for 6 input channels. The ensemble: config.train.ensemble = 5
networks from seeds seed..seed+4, trained together as one vmapped program; predictions are the
mean of their probabilities.

Training as the authors: Adam 1e-3, cross-entropy, learning rate halved after 50 epochs without
a lower training loss (min 1e-4), the weights of the lowest training loss kept. Batch 16 (the
authors use min(N/10, 64); set --config.train.batch_size to match). Their budget is 1500 epochs;
ours is 600 by default for a 2-core CPU, where the 5 members take ~2.6 s per epoch on
BasicMotions-sized data (measured under load; 200 epochs took 825 s and reached test 1.000 with
`python launch/benchmark.py --configs inception_time --datasets BasicMotions --set train.epochs=200`);
raise --config.train.epochs=1500 on an accelerator.

Validation (config.train.validation = "small", research/train/validation.py): below 100
training series the validation examples join the training set and the recipe above runs as
written; from 100 series up, a 15% split chooses the stopping epoch and the best weights.

Data: with data.path empty, a synthetic multivariate set the size of UEA BasicMotions
(4 classes, 40 + 40 series, 6 channels x 100 steps), z-scored per channel from the training
split. Any UEA/UCR `.ts` file: --config.data.path=/data/X/X_TRAIN.ts (unequal lengths padded +
masked: statistics and pooling ignore padded frames).

Run:   python launch/train.py --config configs/inception_time.py
       python launch/benchmark.py --configs inception_time,minirocket --datasets BasicMotions
Smoke: --config configs/inception_time.py:smoke (2 small members, 2 epochs).
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults


def get_config(arg=None):
  config = ml_collections.ConfigDict()
  config.seed = 0  # member m starts from seed + m

  config.data = data_defaults.ts_data()
  config.data.normalize = "zscore"

  config.model = ml_collections.ConfigDict()
  config.model.name = "inception_time"
  config.model.filters = 32
  config.model.depth = 6
  config.model.kernel_sizes = (39, 19, 9)
  config.model.bottleneck = 32
  config.model.residual = True

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"
  config.task.label_smoothing = 0.0
  config.task.class_weights = ()

  config.optim = config_defaults.optim(lr=1e-3)

  config.train = config_defaults.train(
      epochs=600, batch_size=16, eval_batch_size=256, monitor="val_loss", checkpoint_every=50,
      ensemble=5, validation="small",
      early_stopping={"enabled": False},
      plateau={"factor": 0.5, "patience": 50, "min_lr": 1e-4})

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
    config.data.val_fraction = 0.25
    config.model.filters = 4
    config.model.depth = 3
    config.model.kernel_sizes = (9, 5, 3)
    config.model.bottleneck = 4
    config.train.ensemble = 2
    config.train.epochs = 2
    config.train.batch_size = 4
    config.train.checkpoint_every = 1
    config.cv.folds = 2
  elif arg not in (None, ""):
    raise ValueError(f"Unknown variant {arg!r} of configs/inception_time.py; valid: smoke")
  return config

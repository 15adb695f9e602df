"""InceptionTime (Ismail Fawaz et al. 2020): an ensemble of 5 Inception networks, trained as one program.

Recipe of the authors: Adam 1e-3, learning rate halved after 50 epochs without a lower training
loss, the weights of the lowest training loss kept; 600 epochs here (theirs: 1500). Below 100
training series the validation examples join training (config.train.validation = "small").
Data: a synthetic set the size of UEA BasicMotions, or any .ts file (--config.data.path=X_TRAIN.ts).

Run:   python launch/train.py --config configs/inception_time.py
       python launch/benchmark.py --configs inception_time,minirocket --datasets BasicMotions
Time:  about 8 minutes on a 2-core CPU for 600 epochs (the authors' 1500: about 20 minutes).
Reach: test accuracy about 1.0 on BasicMotions.
Smoke: --config configs/inception_time.py:smoke (2 small members, 2 epochs, seconds).
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults
from research.data import defaults as data_defaults


def get_config(arg=None):
  config = config_defaults.base(seed=0, variant=arg, variants=("smoke",), file=__file__, cv={"group_by": ""})

  config.data = data_defaults.ts_data()
  config.data.normalize = "zscore"

  config.model = ml_collections.ConfigDict()
  config.model.name = "inception_time"
  config.model.filters = 32
  config.model.depth = 6
  config.model.kernel_sizes = (39, 19, 9)
  config.model.bottleneck = 32
  config.model.residual = True
  config.model.conv = "auto"  # matmul | xla | auto: the faster form for this backend and train.stepping

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


  if arg == "smoke":
    config.data.synthetic.update(data_defaults.SMOKE_SERIES)
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
  return config

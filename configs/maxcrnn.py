"""MaxCRNN on single-channel sEMG windows (3000 samples at 1 kHz), source domain L3 -> target L4.

3 x [Conv1D -> BatchNorm -> ReLU -> MaxPool 4] -> BiLSTM 64 -> attention pooling -> Dense; about
96k parameters. Adam 5e-4, early stopping on validation loss (patience 50), online augmentation.

Run:   python launch/train.py --config configs/maxcrnn.py
       python launch/cv.py --config configs/maxcrnn.py --folds 5
       python launch/ablate.py --config configs/maxcrnn.py --vary augment.enabled=true,false
       python launch/transfer.py --config configs/maxcrnn.py
Time:  about a second per epoch on a 2-core CPU after compilation; a full run up to ~20 minutes.
Reach: near chance on the default data (the forest baseline does better: the seed's outcome);
       with --config.data.synthetic.separation=1.0 source and target accuracy near 1.
Smoke: --config configs/maxcrnn.py:smoke (2 epochs, seconds). Small: :small (no validation split).
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults

from research.data import defaults as data_defaults


def get_config(arg=None):
  config = config_defaults.base(seed=1738, variant=arg, variants=("smoke", "small"), file=__file__)

  config.data = data_defaults.semg_data()

  config.model = ml_collections.ConfigDict()
  config.model.name = "maxcrnn"
  config.model.conv_features = (16, 32, 64)
  config.model.kernel_sizes = (7, 5, 5)  # samples (1 ms each at 1 kHz)
  config.model.pool_sizes = (4, 4, 4)  # max-pool widths = strides
  config.model.lstm_features = 64  # per direction
  config.model.attention_features = 64
  config.model.dense_features = 64
  config.model.conv_dropout = 0.3
  config.model.dropout = 0.5
  config.model.dtype = "float32"  # float32 | bfloat16 (mixed precision in the convolutions)
  config.model.conv = "auto"  # matmul | xla | auto: the faster form for this backend and train.stepping

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"
  config.task.label_smoothing = 0.0

  config.optim = config_defaults.optim(lr=5e-4)

  config.augment = ml_collections.ConfigDict()
  config.augment.enabled = True
  config.augment.mode = "online"  # online (fresh per epoch, on device) | static (copies once)
  config.augment.factor = 5  # static: copies including the original
  config.augment.jitter = ml_collections.ConfigDict({"enabled": True, "std": 0.05})
  config.augment.scale = ml_collections.ConfigDict({"enabled": True, "low": 0.9, "high": 1.1})
  config.augment.shift = ml_collections.ConfigDict({"enabled": True, "max": 100})  # samples

  config.train = config_defaults.train(epochs=1000, batch_size=64, eval_batch_size=64,
                                       early_stopping={"patience": 50},
                                       plateau={"patience": 20, "min_lr": 1e-6})


  config.transfer = ml_collections.ConfigDict()
  config.transfer.every = 10  # epochs between target-domain accuracy checks (the seed's callback)

  if arg == "smoke":
    config.data.window = 256
    config.data.stride = 256
    config.data.synthetic.windows_per_class = 8
    config.data.synthetic.subjects = 2
    config.model.conv_features = (4, 8)
    config.model.kernel_sizes = (5, 3)
    config.model.pool_sizes = (4, 4)
    config.model.lstm_features = 8
    config.model.attention_features = 8
    config.model.dense_features = 8
    config.train.epochs = 2
    config.train.batch_size = 8
    config.train.eval_batch_size = 32
    config.cv.folds = 2
    config.transfer.every = 1
  elif arg == "small":
    config.train.validation = "small"  # below 100 training examples: no validation split, fixed budget
  return config

"""Sign-language action recognition: a 3-layer LSTM over MediaPipe Holistic keypoints (1662 per frame).

LSTM 64/128/64 with BatchNorm and dropout, Dense 64/32/10; tanh inside the LSTMs; inputs centred
per feature. Adam 1e-3, batch 16, early stopping on validation accuracy (patience 30).
Data: <path>/<Action>/<sequence>/<frame>.npy, or synthetic signs when data.path is empty.

Run:   python launch/train.py --config configs/sign_lstm.py
Own:   --config.data.path=/data/MP_Data; npz or .ts files with --config.data.name=npz|ts
Time:  about a minute on a 2-core CPU.
Reach: test accuracy 1.0 on the synthetic signs (chance 0.1).
Smoke: --config configs/sign_lstm.py:smoke (2 epochs). Small: :small (below 100 sequences).
Noise: --config configs/sign_lstm.py:noise (random labels: the report must say "NOT better than chance").
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults

from research.data import layouts


def get_config(arg=None):
  config = config_defaults.base(seed=42, variant=arg, variants=("smoke", "noise", "noise_smoke", "small"),
                                file=__file__)

  config.data = ml_collections.ConfigDict()
  config.data.name = "keypoints"  # keypoints | npz | ts
  config.data.path = ""  # keypoints folder, .npz file or *_TRAIN.ts; empty: synthetic keypoints
  config.data.test_path = ""  # .ts only: TEST file when it is not <name>_TEST.ts beside the TRAIN file
  config.data.actions = layouts.SIGN_ACTIONS  # class order; () = the folder names, sorted
  config.data.frames = 30  # frames per sequence folder; 0 = any length (padded + masked)
  config.data.keypoint_groups = ("pose", "face", "left_hand", "right_hand")  # any subset
  config.data.test_fraction = 0.1  # of all sequences, stratified (ignored with a predefined test split)
  config.data.val_fraction = 0.15  # of the rest, stratified
  config.data.split_seed = 42  # the seed's random_state; the model's seed never moves data between splits
  config.data.normalize = "center"  # none | center | zscore, per feature, from the training split
  config.data.cache_dir = "data_cache"  # synthetic folders and folder -> array reads, kept once; "" = none
  config.data.synthetic = ml_collections.ConfigDict()
  config.data.synthetic.sequences = 30  # per action
  config.data.synthetic.seed = 0
  config.data.synthetic.noise_only = 0  # 1: labels carry no information (tests the report)

  config.model = ml_collections.ConfigDict()
  config.model.name = "sign_lstm"
  config.model.lstm_sizes = (64, 128, 64)
  config.model.dense_sizes = (64, 32)
  config.model.dropout = 0.2
  config.model.batch_norm = True
  config.model.bn_momentum = 0.99  # Keras' default
  config.model.bn_epsilon = 1e-3  # Keras' default

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"
  config.task.label_smoothing = 0.0
  config.task.class_weights = ()  # one per class, () = none

  config.optim = config_defaults.optim()

  config.train = config_defaults.train(epochs=200, batch_size=16, eval_batch_size=64,
                                       monitor="val_accuracy", mode="max",
                                       early_stopping={"patience": 30}, checkpoint_every=10,
                                       plateau={"enabled": False, "patience": 10})


  if arg in ("smoke", "noise_smoke"):
    config.data.actions = layouts.SIGN_ACTIONS[:3]
    config.data.frames = 10
    config.data.synthetic.sequences = 8
    config.model.lstm_sizes = (8, 8, 8)
    config.model.dense_sizes = (8, 8)
    config.train.epochs = 2
    config.train.batch_size = 8
  if arg in ("noise", "noise_smoke"):
    config.data.synthetic.noise_only = 1
  if arg == "small":
    config.train.validation = "small"  # below 100 training examples: no validation split, fixed budget
  return config

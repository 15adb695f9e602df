"""sEMG Hilbert-Huang images -> CNN encoder (trained with a softmax head, then frozen) -> SVM (RBF, C=10).

Six classes (M/F x full/half/invalid) from MUSCLE_movement_GENDER_###.npz files (`hht` or `signal` +
`fs`); files named 'test' are predicted after training. Synthetic files when data.path is empty.
The SVM is fitted on the encoder's 256-d features of the train split, reported on validation.

Run:   python launch/train.py --config configs/cnn_svm.py --workdir runs/cnn_svm
       (--config.train.epochs=0: the SVM on the untrained encoder, about a minute)
Own:   --config.data.path=data/hht; python launch/predict.py --workdir runs/cnn_svm --input FILE.npz
Time:  minutes per epoch at 256 x 256 on a 2-core CPU; --config.data.image_size=64 is much faster.
Reach: about 0.7 validation accuracy on the synthetic set (chance 1/6); errors are male/female mixes.
Smoke: --config configs/cnn_svm.py:smoke (32 x 32 files, narrow encoder, 2 epochs, seconds).
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults


def get_config(arg=None):
  config = config_defaults.base(seed=42, variant=arg, variants=("smoke",), file=__file__, eval_split="val")

  config.data = ml_collections.ConfigDict()
  config.data.name = "hht_files"
  config.data.path = ""  # folder of .npz files; empty: the embedded synthetic files (data.synthetic)
  config.data.image_size = 256  # time bins = frequency bins
  config.data.freq_min = 0.0  # Hz, HHT frequency range (for files holding `signal`)
  config.data.freq_max = 0.0  # Hz; 0 = Nyquist (fs / 2)
  config.data.max_imf = -1  # IMFs per signal; -1 = all
  config.data.sampling_rate = 1000.0  # Hz, for `signal` files without `fs`
  config.data.cache_dir = "data_cache"  # HHT image per signal file, synthetic files; "" = no cache
  config.data.val_fraction = 0.2  # stratified validation share (the seed's test_size)
  config.data.split_seed = 42  # train/val assignment (the seed's random_state; was config.seed)
  config.data.log_scale = True  # network input log1p(image / image mean)
  config.data.synthetic = ml_collections.ConfigDict()  # launch/make_data.py hht options (data.path empty)
  config.data.synthetic.n_samples = 30  # files per class
  config.data.synthetic.n_test = 8  # held-out '*_test_*' files
  config.data.synthetic.num_samples = 2048  # samples per signal
  config.data.synthetic.sampling_rate = 1000.0  # Hz
  config.data.synthetic.seed = 0

  config.model = ml_collections.ConfigDict()
  config.model.name = "hht_cnn"
  config.model.features = (64, 128, 256)  # channels of the three stride-2 blocks
  config.model.kernel_size = 4
  config.model.conv = "auto"  # matmul | xla | auto: the faster form for this backend and train.stepping
  config.model.negative_slope = 0.2  # LeakyReLU
  config.model.dropout = 0.2  # before the softmax head (training only)

  config.task = ml_collections.ConfigDict()
  config.task.name = "classification"
  config.task.label_smoothing = 0.0

  config.optim = config_defaults.optim(clip_norm=1.0)

  config.train = config_defaults.train(epochs=20, batch_size=16, eval_batch_size=32,
                                       early_stopping={"patience": 6},
                                       plateau={"patience": 3, "min_lr": 1e-5})

  config.head = ml_collections.ConfigDict()
  config.head.kind = "svm"  # svm | random_forest
  config.head.features = "encoder"  # the encoder's 256-d output (config.train.epochs=0: untrained encoder)
  config.head.svm = ml_collections.ConfigDict()
  config.head.svm.C = 10.0
  config.head.svm.gamma = "scale"
  config.head.svm.calibration_folds = 5  # Platt-scaling folds
  config.head.forest = ml_collections.ConfigDict()
  config.head.forest.n_estimators = 200  # with --config.head.kind=random_forest


  if arg == "smoke":
    config.data.image_size = 32
    config.data.synthetic.n_samples = 5
    config.data.synthetic.n_test = 3
    config.data.synthetic.num_samples = 512
    config.model.features = (4, 8, 16)
    config.train.epochs = 2
    config.train.batch_size = 8
    config.head.svm.calibration_folds = 2
    config.head.forest.n_estimators = 10
  return config

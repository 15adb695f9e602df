"""sEMG Hilbert-Huang images -> CNN encoder -> StandardScaler + SVM (RBF, C=10).

Data: a folder of MUSCLE_movement_GENDER_###.npz files (key `hht`, 256 x 256, or
`signal` + `fs`, turned into the HHT image and cached); six classes M/F x
full/half/invalid; files with 'test' in the name are predicted after training. With
data.path empty, the synthetic files of `launch/make_data.py hht` (data.synthetic) are
generated once into data_cache/ at data.image_size.
The encoder (3 x Conv2D stride 2, 1->64->128->256, InstanceNorm + LeakyReLU, global
average pool) is trained with a softmax head (cross-entropy) on the stratified 80%
train split, then frozen; the SVM is fitted on its 256-d features of the train split
and reported on the 20% validation split.

Run:   python launch/train.py --config configs/cnn_svm.py --workdir runs/cnn_svm
Own:   --config.data.path=data/hht (e.g. python launch/make_data.py hht --out data/hht)
       python launch/predict.py --workdir runs/cnn_svm --input data/hht/BICEPS_test_001.npz
Time:  the synthetic files once, ~12 s CPU (188 files through the real HHT; 51 s wall measured on a
       shared 2-core machine at load 9, then 1.4 s per load from the cache). The random-encoder run
       (--config.train.epochs=0: the head on the untrained encoder) takes ~30 s CPU at 256 x 256. Training the
       encoder at 256 x 256: ~350 s per epoch on an idle 2-core CPU (python benchmarks/run.py --only
       second_start: epoch 1 346 s compiling, 350 s with the program from the cache); at --config.data.image_size=64 an
       epoch takes ~25 s CPU, 40 epochs ~17 min CPU.
Reach: measured on the synthetic set (36 validation files, chance 1/6): SVM on the
       random 256 x 256 encoder 0.72 [0.56, 0.84]; SVM on the encoder trained 40
       epochs at 64 x 64 0.75 [0.59, 0.86] (softmax head 0.72). In the trained run
       every error is a male/female confusion (overlapping spectra by design).
Smoke: --config configs/cnn_svm.py:smoke (33 synthetic 32 x 32 files, made in ~7 s on that loaded
       machine; narrow encoder, 2 epochs).

Where the seed was silent: kernel 4 / padding 1 (exact halving), InstanceNorm without
affine (PyTorch's default), LeakyReLU 0.2; Adam 1e-3; images divided by their mean and
log1p-compressed; Platt scaling by CalibratedClassifierCV (SVC(probability=True) is
deprecated in scikit-learn 1.9); train.epochs=0 keeps the random encoder.
"""

import ml_collections

from research import config_defaults


def get_config(arg=None):
  config = ml_collections.ConfigDict()
  config.seed = 42  # Decides init, shuffling and the SVM's folds.

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

  config.eval = ml_collections.ConfigDict()
  config.eval.split = "val"  # the held-out 'test' files have no labels

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
  elif arg not in (None, ""):
    raise ValueError(f"Unknown variant {arg!r} of configs/cnn_svm.py; valid: smoke")
  return config

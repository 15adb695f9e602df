"""The LSTM frequency filter: a 2-layer LSTM(128) extracts one sinusoid from a noisy mixture of four.

Input: 50-step windows of (mixture of 1/3/5/7 Hz sinusoids, one-hot selector); output: the clean
sinusoid of the selected frequency. Training redraws the jitter of every batch. The report states
the zero prediction (MSE 0.5) and the approximate Bayes floor of a causal filter
(research/evaluation/mixture_floor.py).

Run:   python launch/train.py --config configs/lstm_filter.py
Time:  about 20 minutes on a 2-core CPU (50 epochs).
Reach: test MSE about 0.05 (floor 0.037); the seed's target is 0.08. `noisier` (wider jitter): ~0.07.
Smoke: --config configs/lstm_filter.py:smoke (tiny data, 2 epochs, seconds).
Timings: benchmarks/results.md.
"""

import ml_collections

from research import config_defaults


def get_config(arg=None):
  config = config_defaults.base(seed=42, variant=arg, variants=("smoke", "noisier"), file=__file__)

  config.data = ml_collections.ConfigDict()
  config.data.name = "mixture"
  config.data.frequencies = (1.0, 3.0, 5.0, 7.0)  # Hz
  config.data.sampling_rate = 1000.0  # Hz
  config.data.duration = 10.0  # seconds per signal
  config.data.window = 50  # samples per sequence
  config.data.stride = 1  # samples between window starts
  config.data.phases = (4.0, 1.7, 0.26, 0.1)  # radians, one per frequency (see the docstring)
  config.data.amplitude_jitter = 0.05  # per-sample amplitude ~ U(1 - a, 1 + a)
  config.data.phase_jitter = 0.02  # per-sample phase noise ~ U(-p, p), radians
  config.data.noise_std = 0.0  # additive Gaussian noise on the mixture
  config.data.fresh_noise = True  # every training step redraws the noise of its windows
  config.data.val_fraction = 0.1
  config.data.split_seed = 42  # train/val windows of the first signal (the model's seed never moves them)
  config.data.train_seed = 1  # noise seed of the training/validation signal
  config.data.test_seed = 2  # noise seed of the test signal

  config.model = ml_collections.ConfigDict()
  config.model.name = "lstm_regressor"
  config.model.hidden_sizes = (128, 128)
  config.model.dropout = 0.2

  config.task = ml_collections.ConfigDict()
  config.task.name = "regression"

  config.optim = config_defaults.optim(l2=1e-5, clip_norm=1.0)

  config.train = config_defaults.train(epochs=50, batch_size=64, eval_batch_size=1024,
                                       early_stopping={"patience": 15})


  if arg == "smoke":
    config.data.duration = 0.3
    config.data.stride = 5
    config.model.hidden_sizes = (16, 16)
    config.train.epochs = 2
    config.train.batch_size = 16
    config.train.eval_batch_size = 64
  elif arg == "noisier":
    config.data.amplitude_jitter = 0.1
    config.data.phase_jitter = 0.05
  return config

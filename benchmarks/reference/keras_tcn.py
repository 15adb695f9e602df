"""A Keras 3 TCN like configs/tcn.py, timed like benchmarks/tcn_epoch.py times ours.

  python benchmarks/reference/keras_tcn.py [--windows 2048] [--epochs 3]

Model: 8 residual blocks of two dilated Conv1D (kernel 3, 128 filters, dilation 1..128,
padding 'same') each followed by LayerNorm, ReLU, Dropout .25; a 1x1 Conv1D on the first
block's skip path; 4-head self-attention (key_dim 32, dropout .25) + residual + LayerNorm;
class head: average over frames -> Dense 128/64/32 ReLU -> Dense 5; segmentation head:
per frame Dense 128/64/32 ReLU -> Dense 1. Losses: categorical focal (gamma 1, alpha .5,
from logits) + 5 x binary cross-entropy (from logits); Adam 5e-4; batch 32. Data: random
windows of 30 frames x 25 angles (2048 training, 512 validation, validated every epoch).
Differences from ours (research/models/tcn.py, research/train/engine.py):
  * Keras' 'same' Conv1D computes every tap; ours skips taps that read only padding
    (dilations 32-128 on 30 frames), so Keras does more convolution work there.
  * Batches are plainly shuffled; ours draws balanced batches (>= 20% with a start).
  * No masks (every frame is valid here, as in tcn_epoch.py's data).
One fit of 1 + `--epochs` epochs: the first (tracing) is reported apart, the rest timed. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def windows(n: int, seed: int):
  """Random windows (x, class y, per-frame start targets seg, has_start), shared with benchmarks/tcn_epoch.py."""
  import numpy as np
  rng = np.random.default_rng(seed)
  seg = np.zeros((n, 30), np.float32)
  has_start = rng.random(n) < 0.25
  seg[has_start, rng.integers(0, 30, has_start.sum())] = 1.0
  return {"x": rng.normal(size=(n, 30, 25)).astype(np.float32), "y": rng.integers(0, 5, n).astype(np.int32),
          "seg": seg, "has_start": has_start.astype(np.int32)}


def temporal_block(h, dilation: int, features: int = 128, dropout: float = 0.25):
  import keras
  y = h
  for _ in range(2):
    y = keras.layers.Conv1D(features, 3, dilation_rate=dilation, padding="same")(y)
    y = keras.layers.LayerNormalization()(y)
    y = keras.layers.ReLU()(y)
    y = keras.layers.Dropout(dropout)(y)
  skip = h if h.shape[-1] == features else keras.layers.Conv1D(features, 1)(h)
  return keras.layers.ReLU()(keras.layers.Add()([y, skip]))


def mlp(h, sizes=(128, 64, 32)):
  import keras
  for size in sizes:
    h = keras.layers.Dense(size, activation="relu")(h)
  return h


def build_model(classes: int = 5):
  import keras
  x = keras.Input((30, 25))
  h = x
  for index in range(8):
    h = temporal_block(h, 2 ** index)
  attended = keras.layers.MultiHeadAttention(num_heads=4, key_dim=32, dropout=0.25)(h, h)
  h = keras.layers.LayerNormalization()(keras.layers.Add()([h, attended]))
  logits = keras.layers.Dense(classes, name="logits")(mlp(keras.layers.GlobalAveragePooling1D()(h)))
  seg = keras.layers.Reshape((30,), name="seg")(keras.layers.Dense(1)(mlp(h)))
  model = keras.Model(x, {"logits": logits, "seg": seg})
  model.compile(optimizer=keras.optimizers.Adam(5e-4),
                loss={"logits": keras.losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0, from_logits=True),
                      "seg": keras.losses.BinaryCrossentropy(from_logits=True)},
                loss_weights={"logits": 1.0, "seg": 5.0})
  return model


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--windows", type=int, default=2048, help="training windows per epoch")
  parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the warm-up")
  args = parser.parse_args()
  import keras
  import numpy as np
  import tensorflow as tf
  from keras_epochs import EpochTimer
  keras.utils.set_random_seed(0)
  model = build_model()
  train, val = windows(args.windows, 0), windows(512, 1)
  targets = lambda d: {"logits": np.eye(5, dtype=np.float32)[d["y"]], "seg": d["seg"]}
  timer = EpochTimer()
  model.fit(train["x"], targets(train), batch_size=32, epochs=1 + args.epochs, verbose=0, shuffle=True,
            validation_data=(val["x"], targets(val)), validation_batch_size=256, callbacks=[timer])
  first, times = timer.seconds[0], timer.seconds[1:]
  steps = -(-args.windows // 32)
  median = statistics.median(times)
  print(json.dumps({
      "benchmark": "keras_tcn", "windows": args.windows, "batch_size": 32, "steps": steps, "shape": [30, 25],
      "params": int(model.count_params()), "first_epoch_s": round(first, 2), "epoch_s_median": round(median, 3),
      "epoch_s_all": [round(t, 3) for t in times], "ms_per_step": round(1000 * median / steps, 2),
      "tensorflow": tf.__version__, "keras": keras.__version__, "backend": keras.backend.backend()}))


if __name__ == "__main__":
  main()

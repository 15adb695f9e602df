"""The seed's Keras sign-language LSTM, timed like benchmarks/sign_lstm_fit.py times ours.

  python benchmarks/reference/keras_sign_lstm.py [--epochs 200] [--like-ours]

Model (the seed): LSTM 64 -> LSTM 128 -> LSTM 64 (tanh, the last returns its final state)
-> Dense 64 ReLU -> Dense 32 ReLU -> Dense 10 softmax; Adam 1e-3, categorical cross-entropy,
accuracy, batch 16. `--like-ours` adds configs/sign_lstm.py's BatchNorm (momentum .99,
epsilon 1e-3) + Dropout .2 after each LSTM. Data: the same split as ours (configs/sign_lstm.py:
229 training sequences of 30 x 1662, validated every epoch on its 41-sequence validation
split), so both sides see the same arrays. Every epoch runs (no early stopping, no
checkpoints: ours writes one every 10 epochs). Keras backend: TensorFlow (KERAS_BACKEND).
Prints one JSON line: the fit's wall time (model.fit: tracing, training, validation), the
first epoch (includes tf.function tracing) and the median of the others.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def build_model(frames: int, features: int, classes: int, like_ours: bool):
  import keras
  layers = [keras.Input((frames, features))]
  for index, units in enumerate((64, 128, 64)):
    layers.append(keras.layers.LSTM(units, activation="tanh", return_sequences=index < 2))
    if like_ours:
      layers += [keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3), keras.layers.Dropout(0.2)]
  layers += [keras.layers.Dense(64, activation="relu"), keras.layers.Dense(32, activation="relu"),
             keras.layers.Dense(classes, activation="softmax")]
  model = keras.Sequential(layers)
  model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
  return model


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--epochs", type=int, default=200)
  parser.add_argument("--like-ours", action="store_true", help="BatchNorm + Dropout after each LSTM")
  args = parser.parse_args()
  import keras
  import numpy as np
  import tensorflow as tf
  from keras_epochs import EpochTimer

  from research import config_file
  from research.data import load_dataset
  config = config_file.load(ROOT / "configs" / "sign_lstm.py")
  started = time.perf_counter()
  dataset = load_dataset(config)
  loaded = time.perf_counter()
  classes = len(dataset.meta["class_names"])
  x, y = np.asarray(dataset.train["x"], np.float32), np.asarray(dataset.train["y"])
  xv, yv = np.asarray(dataset.val["x"], np.float32), np.asarray(dataset.val["y"])
  keras.utils.set_random_seed(42)
  model = build_model(x.shape[1], x.shape[2], classes, args.like_ours)
  timer = EpochTimer()
  fit_started = time.perf_counter()
  model.fit(x, np.eye(classes, dtype=np.float32)[y], batch_size=16, epochs=args.epochs, verbose=0,
            validation_data=(xv, np.eye(classes, dtype=np.float32)[yv]), callbacks=[timer])
  finished = time.perf_counter()
  seconds = timer.seconds
  print(json.dumps({
      "benchmark": "keras_sign_lstm", "epochs": len(seconds), "train": list(x.shape), "val": list(xv.shape),
      "batch_size": 16, "like_ours": args.like_ours, "params": int(model.count_params()),
      "data_seconds": round(loaded - started, 2), "fit_seconds": round(finished - fit_started, 2),
      "first_epoch_seconds": round(seconds[0], 2),
      "median_epoch_seconds": round(statistics.median(seconds[1:] or seconds), 3),
      "tensorflow": tf.__version__, "keras": keras.__version__, "backend": keras.backend.backend()}))


if __name__ == "__main__":
  main()

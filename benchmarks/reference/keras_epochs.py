"""A Keras callback that records each epoch's wall seconds (validation included)."""

from __future__ import annotations

import time

import keras


class EpochTimer(keras.callbacks.Callback):
  """`seconds[i]`: epoch i from on_epoch_begin to on_epoch_end (after its validation)."""

  def __init__(self):
    super().__init__()
    self.seconds: list[float] = []

  def on_epoch_begin(self, epoch, logs=None):
    self.began = time.perf_counter()

  def on_epoch_end(self, epoch, logs=None):
    self.seconds.append(time.perf_counter() - self.began)

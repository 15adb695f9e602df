"""Classifying a live stream of frames: a sliding window, smoothing and a confidence threshold.

    predictor = StreamingPredictor.from_run(run, threshold=0.8, smoothing=5)
    for frame in keypoint_frames:          # e.g. one MediaPipe Holistic vector per camera frame
      result = predictor.push(frame)
      if result and result.label:          # None until the window is full or while unsure
        print(result.label, result.confidence)

Once `window` frames have arrived, every `stride` frames the model classifies the last
`window` frames; the probabilities of the last `smoothing` predictions are averaged, and
a label is given only when that average's top class reaches `threshold`.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Callable, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class StreamResult:
  label: str | None  # smoothed top class, None while below the threshold
  confidence: float  # smoothed probability of the top class
  probs: dict[str, float]  # smoothed probabilities
  raw_label: str  # top class of this window alone
  raw_confidence: float
  frames_seen: int


class StreamingPredictor:
  """Feeds frames one at a time; see the module docstring."""

  def __init__(self, probs_fn: Callable[[np.ndarray], np.ndarray], window: int,
               class_names: Sequence[str], threshold: float = 0.5, smoothing: int = 5,
               stride: int = 1, prepare: Callable[[np.ndarray], np.ndarray] | None = None):
    """probs_fn maps a (window, F) array to (classes,) probabilities; `prepare` maps a raw frame
    to the model's features (group selection, standardisation)."""
    if window < 1 or smoothing < 1 or stride < 1:
      raise ValueError(f"StreamingPredictor: window ({window}), smoothing ({smoothing}) and stride "
                       f"({stride}) must be >= 1")
    if not 0.0 <= threshold <= 1.0:
      raise ValueError(f"StreamingPredictor: threshold must lie in [0, 1]; found {threshold}")
    self.probs_fn = probs_fn
    self.window = window
    self.class_names = list(class_names)
    self.threshold = threshold
    self.stride = stride
    self.prepare = prepare
    self._frames = collections.deque(maxlen=window)
    self._recent = collections.deque(maxlen=smoothing)
    self._seen = 0

  def reset(self) -> None:
    self._frames.clear()
    self._recent.clear()
    self._seen = 0

  def push(self, frame_F) -> StreamResult | None:
    """Adds one frame; returns a result when a prediction was made, else None."""
    frame_F = np.asarray(frame_F, np.float32)
    if self.prepare is not None:
      frame_F = self.prepare(frame_F)
    self._frames.append(frame_F)
    self._seen += 1
    if len(self._frames) < self.window or (self._seen - self.window) % self.stride:
      return None
    probs_C = np.asarray(self.probs_fn(np.stack(self._frames)), np.float64).reshape(-1)
    if probs_C.shape[0] != len(self.class_names):
      raise ValueError(f"probs_fn returned {probs_C.shape[0]} probabilities for "
                       f"{len(self.class_names)} classes")
    self._recent.append(probs_C)
    mean_C = np.mean(self._recent, axis=0)
    top, raw_top = int(mean_C.argmax()), int(probs_C.argmax())
    return StreamResult(
        label=self.class_names[top] if mean_C[top] >= self.threshold else None,
        confidence=float(mean_C[top]),
        probs={c: float(p) for c, p in zip(self.class_names, mean_C)},
        raw_label=self.class_names[raw_top], raw_confidence=float(probs_C[raw_top]),
        frames_seen=self._seen)

  @classmethod
  def from_run(cls, run, window: int | None = None, **options) -> "StreamingPredictor":
    """A predictor for a trained run (`research.train.load_run`): its own prediction path
    (network, head or both), class names, window length (the training sequences' length)
    and input preparation."""
    from research.data import inputs

    meta = run.meta
    window = window or int(meta.get("max_length") or meta["input_shape"][0])

    def probs_fn(x_TF):
      batch = {"x": np.asarray(x_TF, np.float32)[None], "mask": np.ones((1, len(x_TF)), bool)}
      return run.predict(batch)["probs"][0]

    prepare = lambda frame_F: inputs.prepare_sequence(frame_F[None], meta, "stream frame")[0]
    return cls(probs_fn, window, meta["class_names"], prepare=prepare, **options)

"""Intervals and significance tests: accuracy (Wilson, exact binomial) and bootstrap intervals.

The accuracy interval is Wilson's score interval: unlike the normal ("Wald")
interval it stays inside [0, 1] and keeps close to its nominal coverage on the
small test sets these datasets have (30 examples for the sign-language seed).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats


def wilson_interval(correct: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
  """Wilson score interval for a binomial proportion correct / total."""
  if total <= 0:
    raise ValueError(f"wilson_interval needs at least one trial; found total={total}")
  if not 0 <= correct <= total:
    raise ValueError(f"wilson_interval: correct={correct} must lie in [0, total={total}]")
  z = scipy_stats.norm.ppf(0.5 + confidence / 2)
  p = correct / total
  denom = 1 + z * z / total
  centre = (p + z * z / (2 * total)) / denom
  half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
  # Exact ends at 0/total and total/total (the formula gives them up to rounding).
  low = 0.0 if correct == 0 else max(0.0, centre - half)
  high = 1.0 if correct == total else min(1.0, centre + half)
  return low, high


def binomial_p_value(correct: int, total: int, rate: float) -> float:
  """One-sided exact binomial test: P(X >= correct) for X ~ Binomial(total, rate).

  Small values mean the accuracy is unlikely under guessing at `rate`.
  """
  if total <= 0:
    raise ValueError(f"binomial_p_value needs at least one trial; found total={total}")
  rate = min(max(float(rate), 0.0), 1.0)
  return float(scipy_stats.binomtest(int(correct), int(total), rate, alternative="greater").pvalue)


def chance_level(num_classes: int) -> float:
  """Accuracy of a uniform random guess over the classes."""
  return 1.0 / num_classes


def majority_rate(labels, num_classes: int) -> tuple[float, int]:
  """(share of the most frequent class, that class): what always guessing it scores here."""
  labels = np.asarray(labels, np.int64)
  if labels.size == 0:
    raise ValueError("majority_rate: no labels")
  counts = np.bincount(labels, minlength=num_classes)
  index = int(np.argmax(counts))
  return float(counts[index] / labels.size), index


def bootstrap_interval(values, statistic=np.mean, resamples: int = 2000, seed: int = 0,
                       confidence: float = 0.95) -> list[float]:
  """Percentile bootstrap interval of `statistic` over the items of `values`."""
  values = np.asarray(values, np.float64)
  if len(values) == 0:
    return [float("nan"), float("nan")]
  rng = np.random.default_rng(seed)
  draws = rng.integers(0, len(values), (resamples, len(values)))
  stats_ = np.asarray([statistic(values[d]) for d in draws])
  tail = (1 - confidence) / 2
  return [float(np.quantile(stats_, tail)), float(np.quantile(stats_, 1 - tail))]

"""Golden values of the feature-map families: features of fixed data and the smoke runs' predictions.

Any silent numeric change in QUANT, Hydra or MultiRocket (an interval rule, a kernel draw, a pooling
operator, the compiled form) moves these numbers; the aeon comparisons in test_quant.py and
test_multirocket_hydra.py say whether the new numbers are still right. Update a value only for a
change that is meant to alter it, and say which in the commit.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_config
from research.heads import hydra, multirocket, quant


def _sum(features) -> float:
  return float(np.asarray(features, np.float64).sum())


def test_quant_features_of_fixed_data():
  x = np.random.default_rng(0).normal(size=(3, 40, 2)).astype(np.float32)
  features = np.asarray(quant.transform(quant.fit(x), x))
  assert features.shape == (3, 942)
  assert _sum(features) == pytest.approx(1557.1582456791512, rel=1e-6)
  assert _sum(np.abs(features)) == pytest.approx(4183.942825551072, rel=1e-6)


def test_hydra_and_multirocket_features_of_fixed_data():
  x = np.random.default_rng(1).normal(size=(6, 50, 2)).astype(np.float32)
  counts = np.asarray(hydra.transform(hydra.fit(x, seed=0), x))
  assert counts.shape == (6, 3072) and _sum(counts) == pytest.approx(115067.5954502374, rel=1e-6)
  pooled = np.asarray(multirocket.transform(multirocket.fit(x, num_features=336, seed=0), x))
  assert pooled.shape == (6, 2688) and _sum(pooled) == pytest.approx(122609.2661642246, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quant", "multirocket_hydra"])
def test_smoke_run_predictions(name, tmp_path):
  from research.data import load_dataset
  from research.train import fit, load_run
  config = load_config(name)
  data = load_dataset(config)
  fit(config, data, tmp_path)
  probs = np.asarray(load_run(tmp_path).predict(data.test)["probs"], np.float64)
  assert probs.shape == (8, 3)
  if name == "quant":  # mean leaf fractions of 20 trees: multiples of 1/20 per tree
    assert (probs * np.arange(1, 4)).sum() == pytest.approx(15.549999978393316, rel=1e-6)
  else:  # the ridge's softmax is saturated: its log keeps the decision gap
    assert np.log(probs[0, 1]) == pytest.approx(np.log(2.169891958600238e-26), rel=1e-3)

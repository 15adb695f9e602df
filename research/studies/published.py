"""Published test accuracies on the UCR/UEA default train/test splits, with their sources.

InceptionTime: hfawaz/InceptionTime repository, results-InceptionTime-128.csv (UCR 2018) and
  results-mts.csv (UEA): default split, 5-network ensemble (Ismail Fawaz et al. 2020).
MiniRocket: angus924/minirocket repository, results/results_ucr109_mean.csv: mean over the default
  split and 29 resamples (Dempster et al. 2021), so not the default split alone; equal-length
  univariate UCR sets only.
QUANT and MultiRocket-Hydra: the "Bake off redux" results (Middlehurst, Schaefer & Bagnall 2024;
  time-series-machine-learning/tsml-eval, publications/y2023/tsc_bakeoff/results, QUANT_accuracy.csv
  and MR-Hydra_accuracy.csv), resample 0, which is the default split; the 112 equal-length UCR sets
  only (mean over them: QUANT 0.867, MultiRocket-Hydra 0.884, MiniRocket 0.874).
"""

SOURCES = {
    "inception_time": "Ismail Fawaz et al. 2020 (hfawaz/InceptionTime results, default split, 5 networks)",
    "minirocket": "Dempster et al. 2021 (angus924/minirocket results_ucr109_mean, mean of 30 resamples)",
    "quant": "Middlehurst et al. 2024 (tsml-eval bake off redux, QUANT, default split)",
    "multirocket_hydra": "Middlehurst et al. 2024 (tsml-eval bake off redux, MR-Hydra, default split)",
}

ACCURACY = {
    "inception_time": {
        "BasicMotions": 1.0, "GunPoint": 1.0, "ArrowHead": 0.8457, "ItalyPowerDemand": 0.9650,
        "OSULeaf": 0.9421, "ACSF1": 0.92, "JapaneseVowels": 0.9919, "PickupGestureWiimoteZ": 0.76,
    },
    "minirocket": {
        "GunPoint": 0.9924, "ArrowHead": 0.8810, "ItalyPowerDemand": 0.9596, "OSULeaf": 0.9576,
        "ACSF1": 0.8223,
    },
    "quant": {
        "GunPoint": 0.9867, "ArrowHead": 0.8286, "ItalyPowerDemand": 0.9660, "OSULeaf": 0.8802, "ACSF1": 0.91,
    },
    "multirocket_hydra": {
        "GunPoint": 1.0, "ArrowHead": 0.8629, "ItalyPowerDemand": 0.9670, "OSULeaf": 0.9711, "ACSF1": 0.90,
    },
}


def accuracy(config_label: str, dataset: str) -> float | None:
  """The published accuracy of the family of `config_label` (e.g. 'inception_time:small') on `dataset`."""
  return ACCURACY.get(config_label.split(":")[0], {}).get(dataset)

"""Published test accuracies on the UCR/UEA default train/test splits, with their sources.

InceptionTime: hfawaz/InceptionTime repository, results-InceptionTime-128.csv (UCR 2018) and
  results-mts.csv (UEA): default split, 5-network ensemble (Ismail Fawaz et al. 2020).
MiniRocket: angus924/minirocket repository, results/results_ucr109_mean.csv: mean over the default
  split and 29 resamples (Dempster et al. 2021), so not the default split alone; equal-length
  univariate UCR sets only.
"""

SOURCES = {
    "inception_time": "Ismail Fawaz et al. 2020 (hfawaz/InceptionTime results, default split, 5 networks)",
    "minirocket": "Dempster et al. 2021 (angus924/minirocket results_ucr109_mean, mean of 30 resamples)",
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
}


def accuracy(config_label: str, dataset: str) -> float | None:
  """The published accuracy of the family of `config_label` (e.g. 'inception_time:small') on `dataset`."""
  return ACCURACY.get(config_label.split(":")[0], {}).get(dataset)

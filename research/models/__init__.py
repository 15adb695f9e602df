"""Model registry: `MODELS[name]` is a linen Module class.

Every model is called as `model.apply(variables, x, train=bool, mask=mask)`:
  x     float32, examples first: (B, T, F) for sequences, (B, H, W, C) for images.
  mask  bool validity, (B, T) for sequence input and (B,) otherwise; False marks
        time padding and the zero-weight examples that pad the last batch. Models
        with batch statistics must compute them over valid entries only.
Dropout draws from the `dropout` rng; normalisation statistics live in `batch_stats`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flax import linen as nn

from research.models import cnn
from research.models import crnn
from research.models import inception_time
from research.models import lstm
from research.models import sign_lstm
from research.models import tcn

MODELS: dict[str, type[nn.Module]] = {
    "hht_cnn": cnn.HHTClassifier,
    "inception_time": inception_time.InceptionTime,
    "maxcrnn": crnn.MaxCRNN,
    "lstm_regressor": lstm.LSTMRegressor,
    "sign_lstm": sign_lstm.SignLSTM,
    "tcn": tcn.TCN,
}


def model_class(model_config) -> type[nn.Module]:
  """The module class `config.model` names, after checking its name and fields (no data needed)."""
  name = model_config.name
  if name not in MODELS:
    raise ValueError(f"Unknown model {name!r} (config.model.name); valid: {sorted(MODELS)}")
  cls = MODELS[name]
  fields = {f.name for f in dataclasses.fields(cls)}
  unknown = sorted(set(model_config.to_dict()) - fields - {"name"})
  if unknown:
    raise ValueError(f"config.model has fields {unknown} that model {name!r} does not take; "
                     f"it takes {sorted(fields - {'parent', 'name'})}")
  return cls


def build_model(model_config, meta: dict[str, Any]) -> nn.Module:
  """Builds `MODELS[model_config.name]` from the config's other fields.

  `num_classes` is filled from the dataset's class names when the model takes it
  and the config leaves it out.
  """
  cls = model_class(model_config)
  kwargs = {k: tuple(v) if isinstance(v, list) else v  # JSON gives lists; modules take tuples
            for k, v in model_config.to_dict().items() if k != "name"}
  fields = {f.name for f in dataclasses.fields(cls)}
  if "num_classes" in fields and "num_classes" not in kwargs and meta.get("class_names"):
    kwargs["num_classes"] = len(meta["class_names"])
  return cls(**kwargs)

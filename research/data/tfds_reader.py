"""TensorFlow Datasets as a data source: `config.data.name = "tfds"`, `config.data.path = NAME`.

A TFDS dataset prepared in the array_record format is read with `builder.as_data_source`
(random access, numpy, no TensorFlow) into the same padded, masked `Dataset` as the `.ts`
and `.npz` readers, so every config and study runs on it. Prepare one once with

    tfds build NAME --data_dir DIR --file_format=array_record

(or `builder.download_and_prepare(file_format="array_record")`). `data_config()` gives the
group with every option; the fields missing from another config's data group take their
defaults, so `--config.data.name=tfds --config.data.path=NAME` works on any config (set the
folder with TFDS's own $TFDS_DATA_DIR when the group has no `data_dir`).

Features: `series_key` names the series: a (T,) or (T, C) tensor (C, T with
`channels_first`), or a Sequence of per-step scalars (smartwatch_gestures' `features`),
whose `channels` (default: every floating-point entry) are stacked; `label_key` a
ClassLabel, integer or string; `mask_key` an optional (T,) validity mask. Empty keys come
from the dataset's supervised keys. Splits: `train_split`; `test_split` and `val_split`
when given (or when the dataset has `test` / `validation`), else stratified fractions.
"""

from __future__ import annotations

import ml_collections
import numpy as np

from research.data import dataset as dataset_lib
from research.data import sequences as seq_lib
from research.data import splits as splits_lib
from research.data.errors import DataError, DataNotFoundError

INSTALL = "pip install tensorflow-datasets array-record"


def data_config(**overrides) -> ml_collections.ConfigDict:
  """The data group of a TFDS-backed config, with every field explained."""
  data = ml_collections.ConfigDict({
      "name": "tfds",
      "path": "",  # the TFDS name, e.g. "smartwatch_gestures" or "smartwatch_gestures:1.0.0"
      "data_dir": "",  # where it was prepared; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
      "train_split": "train",
      "val_split": "",  # "" = 'validation' when the dataset has it, else val_fraction of train
      "test_split": "",  # "" = 'test' when the dataset has it, else test_fraction of train
      "series_key": "",  # "" = the dataset's first supervised key
      "channels": (),  # entries of a Sequence-of-scalars series to stack; () = every float entry
      "channels_first": False,  # the series tensor is (C, T) instead of (T, C)
      "label_key": "",  # "" = the dataset's second supervised key
      "mask_key": "",  # optional (T,) bool validity of the series' frames
      "test_fraction": 0.2,  # stratified, only without a test split
      "val_fraction": 0.15,  # of the training split, stratified; 0 = none
      "split_seed": 0,
      "normalize": "none",  # none | center | zscore, per channel, from the training split
  })
  unknown = sorted(set(overrides) - set(data))
  if unknown:
    raise ValueError(f"tfds data_config has no field(s) {unknown}; it has {sorted(data)}")
  data.update(overrides)
  return data


def _option(cfg, key: str):
  """A field of `cfg`, or data_config()'s default when another reader's group lacks it."""
  value = cfg.get(key, None) if hasattr(cfg, "get") else None
  return data_config()[key] if value is None else value


def _builder(cfg):
  try:
    import tensorflow_datasets as tfds
  except ImportError as error:
    raise DataError(f"config.data.name='tfds' needs tensorflow-datasets: {INSTALL}", "missing_package") from error
  name, data_dir = _option(cfg, "path"), _option(cfg, "data_dir") or None
  if not name:
    raise DataError("config.data.path is empty; give the TFDS dataset name, e.g. "
                    "--config.data.path=smartwatch_gestures", "missing_path")
  where = f"data_dir={data_dir!r}" if data_dir else "the default data_dir ($TFDS_DATA_DIR or ~/tensorflow_datasets)"
  prepare = (f"prepare it once: tfds build {name.split(':')[0]} --file_format=array_record"
             + (f" --data_dir {data_dir}" if data_dir else ""))
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError as error:
    raise DataNotFoundError(f"config.data.path={name!r}: no TFDS dataset of that name is registered or prepared "
                            f"in {where}. Check the name in the TFDS catalogue (tfds.list_builders()) and "
                            f"{prepare}", "unknown_dataset") from error
  if not builder.info.splits:
    raise DataNotFoundError(f"config.data.path={name!r}: the dataset is not prepared in {where}; {prepare}",
                            "not_prepared")
  if str(getattr(builder.info.file_format, "value", builder.info.file_format)) != "array_record":
    raise DataError(f"config.data.path={name!r} is stored as {builder.info.file_format}; reading it without "
                    f"TensorFlow needs array_record: {prepare}", "wrong_format")
  return builder


def _keys(cfg, builder) -> tuple[str, str, str]:
  """(series, label, mask) feature keys, checked against the dataset's features."""
  features = builder.info.features
  supervised = builder.info.supervised_keys or ()
  series_key = _option(cfg, "series_key") or (supervised[0] if len(supervised) == 2 else "")
  label_key = _option(cfg, "label_key") or (supervised[1] if len(supervised) == 2 else "")
  mask_key = _option(cfg, "mask_key")
  if not (isinstance(series_key, str) and isinstance(label_key, str)):
    raise DataError(f"{builder.name}: supervised keys {supervised} are nested; set config.data.series_key and "
                    "label_key to single features", "nested_keys")
  for field, key in (("series_key", series_key), ("label_key", label_key), ("mask_key", mask_key)):
    if field != "mask_key" and not key:
      raise DataError(f"{builder.name}: config.data.{field} is empty and the dataset has no supervised keys; "
                      f"set it to one of its features {sorted(features.keys())}", f"missing_{field}")
    if key and key not in features:
      raise DataError(f"{builder.name}: config.data.{field}={key!r} is not a feature of the dataset; its "
                      f"features are {sorted(features.keys())}. Set --config.data.{field} to one of them",
                      f"missing_{field}")
  return series_key, label_key, mask_key


def _series(value, cfg, key: str, where: str) -> np.ndarray:
  """One record's series as (T, C) float32."""
  if isinstance(value, dict):
    channels = list(_option(cfg, "channels")) or [k for k, v in value.items() if np.asarray(v).dtype.kind == "f"]
    missing = [c for c in channels if c not in value]
    if missing or not channels:
      raise DataError(f"{where}: config.data.channels={tuple(channels)} must name entries of the sequence "
                      f"{key!r}; it has {sorted(value)}", "missing_channels")
    value = np.stack([np.asarray(value[c]) for c in channels], axis=1)
  x = np.asarray(value)
  if x.dtype.kind not in "fiub":
    raise DataError(f"{where}: feature {key!r} holds {x.dtype}, not numbers; point config.data.series_key at "
                    "the numeric series", "wrong_dtype")
  if x.ndim == 1:
    x = x[:, None]
  elif x.ndim == 2 and _option(cfg, "channels_first"):
    x = x.T
  elif x.ndim != 2:
    raise DataError(f"{where}: feature {key!r} has shape {x.shape}; a series must be (time,) or (time, "
                    "channels) (set config.data.channels_first for (channels, time))", "wrong_shape")
  return x.astype(np.float32)


def _read_split(builder, split: str, cfg, keys) -> tuple[list[np.ndarray], list]:
  series_key, label_key, mask_key = keys
  source = builder.as_data_source(split=split)
  records = [source[i] for i in range(len(source))]
  if not records:
    raise DataError(f"{builder.name}[{split}]: the split holds no example", "empty")
  series, labels = [], []
  for i, record in enumerate(records):
    where = f"{builder.name}[{split}] example {i}"
    x = _series(record[series_key], cfg, series_key, where)
    if mask_key:
      mask = np.asarray(record[mask_key])
      if mask.shape != x.shape[:1]:
        raise DataError(f"{where}: mask {mask_key!r} has shape {mask.shape}, the series {series_key!r} "
                        f"{x.shape[0]} frames; the mask needs one value per frame", "wrong_shape")
      x = x[mask.astype(bool)]
    series.append(x)
    label = record[label_key]
    labels.append(label.decode() if isinstance(label, bytes) else np.asarray(label).item())
  return series, labels


def _split_name(cfg, builder, field: str, default: str) -> str:
  name = _option(cfg, field)
  if name and name not in builder.info.splits:
    raise DataError(f"{builder.name}: config.data.{field}={name!r} is not a split of the dataset; its splits "
                    f"are {sorted(builder.info.splits)}", "unknown_split")
  return name or (default if default in builder.info.splits else "")


def load(cfg, seed: int) -> dataset_lib.Dataset:
  """The TFDS dataset `config.data.path`, read from array_record without TensorFlow."""
  builder = _builder(cfg)
  keys = _keys(cfg, builder)
  train_name = _split_name(cfg, builder, "train_split", "train")
  if not train_name:
    raise DataError(f"{builder.name}: no 'train' split; set config.data.train_split to one of "
                    f"{sorted(builder.info.splits)}", "unknown_split")
  test_name = _split_name(cfg, builder, "test_split", "test")
  val_name = _split_name(cfg, builder, "val_split", "validation")
  parts = {name: _read_split(builder, name, cfg, keys) for name in dict.fromkeys(filter(None, [train_name, val_name, test_name]))}
  label_feature = builder.info.features[keys[1]]
  names = list(getattr(label_feature, "names", None) or []) or None
  ordered = [parts[n] for n in parts]
  raw = np.asarray([label for _, labels in ordered for label in labels])
  y_all, class_names = seq_lib.encode_labels(raw if names is None else raw.astype(np.int64), names, f"{builder.name}[{keys[1]}]")
  cleaned, missing, offset, encoded = {}, None, 0, {}
  for name, (series, labels) in parts.items():
    cleaned[name], counts = seq_lib.clean(series, f"{builder.name}[{name}]")
    missing = counts if missing is None else {k: missing[k] + counts[k] for k in missing}
    encoded[name] = y_all[offset:offset + len(labels)]
    offset += len(labels)
  length = max(len(s) for series in cleaned.values() for s in series)
  padded = {}
  for name in parts:
    x, mask = seq_lib.pad(cleaned[name], length)
    padded[name] = {"x": x, "y": encoded[name], "mask": mask}
  meta = {"source": f"tfds:{builder.name}:{builder.info.version} ({builder.data_dir})", "class_names": class_names,
          "feature_layout": {"format": "array", "num_features": int(padded[train_name]["x"].shape[2])},
          "num_features": int(padded[train_name]["x"].shape[2]), "max_length": int(length),
          "missing_values": missing, "skipped": [], "tfds": {"name": builder.name, "splits": list(parts),
                                                             "series_key": keys[0], "label_key": keys[1]}}
  normalize = _option(cfg, "normalize")
  dataset = splits_lib.classification_splits(
      padded[train_name], meta, test=padded.get(test_name), test_fraction=_option(cfg, "test_fraction"),
      val_fraction=0.0 if val_name else _option(cfg, "val_fraction"), seed=splits_lib.split_seed(cfg, seed),
      normalize=normalize, where=f"tfds {builder.name}")
  if not val_name:
    return dataset
  val = padded[val_name]
  if dataset.meta.get("standardize"):
    val["x"] = seq_lib.standardize(val["x"], val["mask"], dataset.meta["standardize"])
  dataset.meta["split_sizes"]["val"] = len(val["y"])
  return dataset_lib.Dataset(train=dataset.train, val=val, test=dataset.test, meta=dataset.meta)

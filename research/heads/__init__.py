"""Heads: a classifier fitted on features, the optional second stage of a run (`config.head`).

  config.head.kind      none | svm | random_forest | extra_trees | ridge (`HEADS`)
  config.head.features  encoder (the network's `encode` output) | handmade | minirocket | quant
                        | multirocket_hydra
                        (`FEATURE_MAPS`, options in config.features)

A fitted head is stored in a folder as plain arrays + JSON (`research.heads.persist`,
no pickle) with a manifest of every file's SHA-256: `load` refuses a folder in which
any file changed after it was saved. This detects accidental change (a truncated
copy, an edited setting); it does not stop someone who rewrites the hashes too.
"""

from __future__ import annotations

import pathlib
import shutil
from typing import Any

from research.heads import extra_trees
from research.heads import feature_maps
from research.heads import feature_maps_quant_hydra
from research.heads import forest
from research.heads import persist
from research.heads import ridge
from research.heads import svm

HEADS = {
    "svm": svm.SVMHead,
    "random_forest": forest.ForestHead,
    "extra_trees": extra_trees.ExtraTreesHead,
    "ridge": ridge.RidgeHead,
}

ENCODER = "encoder"
FEATURE_MAPS = {
    "handmade": feature_maps.Handmade,
    "minirocket": feature_maps.MiniRocket,
    "quant": feature_maps_quant_hydra.Quant,
    "multirocket_hydra": feature_maps_quant_hydra.MultiRocketHydra,
}
FEATURE_MAP_BUILDERS = {
    "handmade": feature_maps.from_config,
    "minirocket": feature_maps.minirocket_from_config,
    "quant": feature_maps_quant_hydra.quant_from_config,
    "multirocket_hydra": feature_maps_quant_hydra.multirocket_hydra_from_config,
}

MANIFEST = "manifest.json"
FORMAT = "research.heads"
FORMAT_VERSION = 2


def kind(config) -> str:
  """The configured head kind; 'none' when the config has no head."""
  head = config.get("head")
  return "none" if head is None else head.kind


def build_head(config, num_classes: int, seed: int):
  """An unfitted `HEADS[config.head.kind]` with the options of its group (config.head.<kind>)."""
  name = kind(config)
  if name not in HEADS:
    raise ValueError(f"Unknown head {name!r} (config.head.kind); valid: none, {', '.join(sorted(HEADS))}")
  group = {"svm": "svm", "random_forest": "forest"}.get(name, name)
  options = config.head.get(group)
  options = options.to_dict() if options is not None else {}
  return HEADS[name](num_classes=num_classes, seed=int(seed), **options)


def build_feature_map(config, meta: dict):
  """The unfitted feature map of config.head.features, or None when the network encodes."""
  name = config.head.features
  if name == ENCODER:
    return None
  if name not in FEATURE_MAP_BUILDERS:
    raise ValueError(f"Unknown features {name!r} (config.head.features); valid: {ENCODER}, "
                     f"{', '.join(sorted(FEATURE_MAP_BUILDERS))}")
  return FEATURE_MAP_BUILDERS[name](config, meta)


def save(directory, head, feature_map=None, info: dict | None = None) -> pathlib.Path:
  """Writes the fitted head (and feature map) into `directory`, replacing an old one whole."""
  from research import workdir as workdir_lib

  directory = pathlib.Path(directory)
  tmp = directory.with_name(f".{directory.name}.tmp")
  shutil.rmtree(tmp, ignore_errors=True)
  files = persist.save(tmp, "head", head.objects(), info=head.settings())
  record = {"format": FORMAT, "format_version": FORMAT_VERSION, "head": head.settings(),
            "fit_info": head.fit_info, "info": info or {}, "features": None}
  if feature_map is not None:
    files.update(persist.save(tmp, "features", feature_map.arrays(), info=feature_map.settings()))
    record["features"] = feature_map.settings()
  record["sha256"] = files
  workdir_lib.write_json_atomic(tmp / MANIFEST, record)
  if directory.exists():
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old)
  else:
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(directory)
  return directory


def load(directory) -> tuple[Any, Any, dict]:
  """(head, feature_map or None, manifest) of a folder written by `save`; refuses changed files."""
  directory = pathlib.Path(directory)
  manifest_path = directory / MANIFEST
  if not manifest_path.exists():
    raise FileNotFoundError(f"{manifest_path} is missing: {directory} holds no fitted head "
                            "(train the run with launch/train.py)")
  from research import workdir as workdir_lib
  record = workdir_lib.read_json(manifest_path)
  if record.get("format") != FORMAT or record.get("format_version") != FORMAT_VERSION:
    raise persist.TamperedFileError(f"{manifest_path}: format {record.get('format')!r} "
                                    f"v{record.get('format_version')}; expected {FORMAT!r} v{FORMAT_VERSION}")
  expected = record.get("sha256") or {}
  stored = {p.name for p in directory.iterdir() if p.is_file() and p.name != MANIFEST}
  changed = sorted(name for name in set(expected) | stored
                   if name not in expected or not (directory / name).exists()
                   or persist.sha256_file(directory / name) != expected[name])
  if changed:
    raise persist.TamperedFileError(f"{directory}: {changed} do not match the SHA-256 recorded in {MANIFEST}; "
                                    "the head changed after it was saved. Refusing to load it: retrain the run.")
  settings = record["head"]
  if settings.get("kind") not in HEADS:
    raise persist.TamperedFileError(f"{manifest_path}: unknown head kind {settings.get('kind')!r}")
  cls = HEADS[settings["kind"]]
  objects, _ = persist.load(directory, "head")
  for name, expected_type in cls.expected_objects.items():
    if not isinstance(objects.get(name), expected_type):
      raise persist.TamperedFileError(f"{directory}/head.json: a {settings['kind']} head must hold "
                                      f"{name} as {expected_type.__name__}")
  head = cls.from_objects(settings, objects)
  head.fit_info = record.get("fit_info") or {}
  feature_map = None
  if record.get("features"):
    features_settings = record["features"]
    if features_settings.get("kind") not in FEATURE_MAPS:
      raise persist.TamperedFileError(f"{manifest_path}: unknown feature map {features_settings.get('kind')!r}")
    arrays, _ = persist.load(directory, "features")
    feature_map = FEATURE_MAPS[features_settings["kind"]].from_arrays(features_settings, arrays)
  return head, feature_map, record

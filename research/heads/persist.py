"""Safe storage of fitted scikit-learn objects: arrays in `.npz`, structure in JSON.

Nothing here unpickles or imports by name. An object is rebuilt only when its class
is in `ALLOWED` (scaler, SVC, random forest, extra trees, decision trees); its fitted attributes
come back as plain arrays (`np.load(allow_pickle=False)`) and JSON scalars. The JSON
records the SHA-256 of the `.npz`, so an edited or corrupted array file is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import pathlib

import numpy as np
from sklearn import ensemble, preprocessing, svm, tree
from sklearn.tree import _tree

FORMAT = "research.heads.persist"
FORMAT_VERSION = 1

ALLOWED = {
    "StandardScaler": preprocessing.StandardScaler,
    "SVC": svm.SVC,
    "RandomForestClassifier": ensemble.RandomForestClassifier,
    "DecisionTreeClassifier": tree.DecisionTreeClassifier,
    "ExtraTreesClassifier": ensemble.ExtraTreesClassifier,
    "ExtraTreeClassifier": tree.ExtraTreeClassifier,
}


class TamperedFileError(ValueError):
  """A stored head does not match what was saved, or names something not allowed."""


def sha256_file(path) -> str:
  return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def _write_atomic(path: pathlib.Path, blob: bytes) -> None:
  tmp = path.with_name(f".{path.name}.tmp")
  tmp.write_bytes(blob)
  tmp.replace(path)


def _encode(value, arrays: dict, where: str):
  """A JSON node for `value`; its arrays go into `arrays` under fresh keys."""
  if value is None or isinstance(value, (bool, int, float, str)):
    return {"v": value}
  if isinstance(value, (np.ndarray, np.generic)):
    array = np.asarray(value)
    if array.dtype.hasobject:
      raise TypeError(f"persist: {where} is an object array, which cannot be stored safely")
    key = f"a{len(arrays)}"
    arrays[key] = array
    return {"a": key, "scalar": isinstance(value, np.generic)}
  if isinstance(value, tuple):
    return {"tuple": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
  if isinstance(value, list):
    return {"list": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
  if isinstance(value, dict):
    if not all(isinstance(k, str) for k in value):
      raise TypeError(f"persist: {where} is a dict with non-string keys")
    return {"dict": {k: _encode(v, arrays, f"{where}.{k}") for k, v in value.items()}}
  if isinstance(value, _tree.Tree):
    _, (n_features, n_classes, n_outputs), state = value.__reduce__()
    return {"tree": {"n_features": int(n_features), "n_outputs": int(n_outputs),
                     "n_classes": _encode(np.asarray(n_classes), arrays, f"{where}.n_classes"),
                     "state": _encode(state, arrays, f"{where}.state")}}
  name = type(value).__name__
  if ALLOWED.get(name) is type(value):
    return {"estimator": name,
            "attrs": {k: _encode(v, arrays, f"{where}.{k}") for k, v in vars(value).items()}}
  raise TypeError(f"persist: {where} has type {type(value).__module__}.{name}, which cannot be "
                  f"stored; allowed estimators: {sorted(ALLOWED)}")


def _check_tree(state, n_features: int, where: str) -> None:
  """Refuses a tree whose node links or feature indices point outside it (they would crash predict)."""
  if not isinstance(state, dict) or not {"nodes", "values", "node_count"} <= set(state):
    raise TamperedFileError(f"persist: {where} is not a decision tree's state")
  nodes, count = state["nodes"], int(state["node_count"])
  names = getattr(getattr(nodes, "dtype", None), "names", None) or ()
  if not {"left_child", "right_child", "feature"} <= set(names) or len(nodes) != count or count < 1:
    raise TamperedFileError(f"persist: {where} has a malformed node table")
  if len(state["values"]) != count:
    raise TamperedFileError(f"persist: {where} has {len(state['values'])} leaf values for {count} nodes")
  index = np.arange(count)
  left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
  leaf = left == -1
  # scikit-learn numbers every child after its parent, so valid links also rule out cycles.
  valid = np.where(leaf, right == -1,
                   (left > index) & (left < count) & (right > index) & (right < count)
                   & (feature >= 0) & (feature < n_features))
  if not valid.all():
    bad = int(np.flatnonzero(~valid)[0])
    raise TamperedFileError(f"persist: {where} node {bad} links to children {int(left[bad])}/{int(right[bad])} "
                            f"or feature {int(feature[bad])} outside the tree ({count} nodes, {n_features} "
                            "features); refusing to load")


def _decode(node, arrays, where: str):
  if not isinstance(node, dict) or len(node) == 0:
    raise TamperedFileError(f"persist: malformed node at {where}: {node!r}")
  if "v" in node:
    value = node["v"]
    if value is not None and not isinstance(value, (bool, int, float, str)):
      raise TamperedFileError(f"persist: {where} holds {type(value).__name__}, not a scalar")
    return value
  if "a" in node:
    if node["a"] not in arrays:
      raise TamperedFileError(f"persist: {where} names array {node['a']!r}, which the .npz lacks")
    array = arrays[node["a"]]
    return array[()] if node.get("scalar") else array
  if "tuple" in node:
    return tuple(_decode(v, arrays, f"{where}[{i}]") for i, v in enumerate(node["tuple"]))
  if "list" in node:
    return [_decode(v, arrays, f"{where}[{i}]") for i, v in enumerate(node["list"])]
  if "dict" in node:
    return {k: _decode(v, arrays, f"{where}.{k}") for k, v in node["dict"].items()}
  if "tree" in node:
    spec = node["tree"]
    n_classes = np.asarray(_decode(spec["n_classes"], arrays, where), np.intp)
    state = _decode(spec["state"], arrays, f"{where}.state")
    _check_tree(state, int(spec["n_features"]), where)
    rebuilt = _tree.Tree(int(spec["n_features"]), n_classes, int(spec["n_outputs"]))
    rebuilt.__setstate__(state)
    return rebuilt
  if "estimator" in node:
    name = node["estimator"]
    if name not in ALLOWED:
      raise TamperedFileError(f"persist: {where} asks for class {name!r}, which is not allowed "
                              f"({sorted(ALLOWED)}); refusing to load")
    cls = ALLOWED[name]
    obj = cls.__new__(cls)
    obj.__dict__.update({k: _decode(v, arrays, f"{where}.{k}") for k, v in node["attrs"].items()})
    return obj
  raise TamperedFileError(f"persist: unknown node kind at {where}: {sorted(node)}")


def save(directory, name: str, objects: dict, info: dict | None = None) -> dict:
  """Writes `<name>.npz` and `<name>.json`; returns {file: sha256} of both."""
  directory = pathlib.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  arrays: dict = {}
  structure = _encode(dict(objects), arrays, name)
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  blob = buffer.getvalue()
  npz_path = directory / f"{name}.npz"
  _write_atomic(npz_path, blob)
  record = {"format": FORMAT, "format_version": FORMAT_VERSION, "info": info or {},
            "arrays_file": npz_path.name, "arrays_sha256": hashlib.sha256(blob).hexdigest(),
            "structure": structure}
  _write_atomic(directory / f"{name}.json", (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())
  return {npz_path.name: record["arrays_sha256"],
          f"{name}.json": sha256_file(directory / f"{name}.json")}


def load(directory, name: str) -> tuple[dict, dict]:
  """(objects, info) saved by `save`; TamperedFileError when the files do not match."""
  directory = pathlib.Path(directory)
  json_path, npz_path = directory / f"{name}.json", directory / f"{name}.npz"
  for path in (json_path, npz_path):
    if not path.exists():
      raise FileNotFoundError(f"persist: {path} is missing; the checkpoint is incomplete")
  record = json.loads(json_path.read_text())
  if record.get("format") != FORMAT or record.get("format_version") != FORMAT_VERSION:
    raise TamperedFileError(f"{json_path}: format {record.get('format')!r} v{record.get('format_version')}; "
                            f"expected {FORMAT!r} v{FORMAT_VERSION}")
  blob = npz_path.read_bytes()
  found = hashlib.sha256(blob).hexdigest()
  if found != record.get("arrays_sha256"):
    raise TamperedFileError(f"{npz_path}: SHA-256 {found[:16]}... does not match "
                            f"{str(record.get('arrays_sha256'))[:16]}... recorded in {json_path.name}; "
                            "the file changed after it was saved. Refusing to load: refit the head.")
  with np.load(io.BytesIO(blob), allow_pickle=False) as stored:
    arrays = {key: stored[key] for key in stored.files}
  return _decode(record["structure"], arrays, name), record["info"]

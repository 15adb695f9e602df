"""A fitted Random Forest and its sEMG window features as portable C (C99, float32, no malloc).

`write_forest_c` writes, into one folder:
  model.h            the forest as constant tables (per node: feature, threshold, children;
                     per distinct leaf: class probabilities) and model_predict_proba()
  model_features.h, semg_features.h/.c, main.c   the features and an example harness
                     (features.py in this folder), main.c printing class and probabilities

The forest decides exactly as scikit-learn does on the same float32 features:
scikit-learn goes left when x <= t for a float64 threshold t and float32 x, which
for every float32 x is x <= t32, t32 the largest float32 not above t; thresholds
are written as exact hexadecimal float literals. Probabilities are the mean of the
trees' leaf class fractions (as predict_proba), summed in float32, so they agree
with scikit-learn within a few float32 roundings (~1e-7).

emlearn (0.23) was the first choice and is not used: its C writes float thresholds
with six decimals ("{:.6f}"), so features smaller than ~1e-3 or thresholds between
two close feature values are compared against a rounded threshold, and its
classifiers vote with argmax leaves or 8-bit quantized leaf fractions; either way
the C forest can disagree with scikit-learn.
"""

from __future__ import annotations

import pathlib
from typing import Any, Sequence

import numpy as np

from research.export.c import build
from research.export.c import features as features_c_lib


def _threshold_as_float32(threshold: float) -> np.float32:
  """The largest float32 t32 <= threshold: for float32 x, x <= threshold iff x <= t32."""
  t32 = np.float32(threshold)
  if float(t32) > threshold:
    t32 = np.nextafter(t32, np.float32(-np.inf))
  return t32


def _int_type(values: np.ndarray) -> str:
  low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
  if -(1 << 7) <= low and high < (1 << 7):
    return "int8_t"
  if -(1 << 15) <= low and high < (1 << 15):
    return "int16_t"
  return "int32_t"


def flatten_forest(estimator, num_classes: int) -> dict[str, np.ndarray]:
  """The forest as flat tables: feature, threshold (float32), left, right per internal node,
  a root per tree, and distinct leaf probability rows (num_classes columns).

  Children and roots are node indices (>= 0) or leaves encoded as -(row + 1).
  """
  classes = np.asarray(estimator.classes_)
  if not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0 or classes.max() >= num_classes:
    raise ValueError(f"The forest's classes_ {classes.tolist()} must be class ids in [0, {num_classes}) "
                     "(the index into class_names); fit it on integer labels.")
  features, thresholds, lefts, rights, roots = [], [], [], [], []
  leaf_rows: dict[bytes, int] = {}
  leaves: list[np.ndarray] = []

  def leaf(value_row: np.ndarray) -> int:
    fractions = np.asarray(value_row, np.float64)
    fractions = fractions / fractions.sum()
    row = np.zeros(num_classes, np.float32)
    row[classes] = fractions
    key = row.tobytes()
    if key not in leaf_rows:
      leaf_rows[key] = len(leaves)
      leaves.append(row)
    return -(leaf_rows[key] + 1)

  for member in estimator.estimators_:
    tree = member.tree_
    offset = len(features)
    internal = np.flatnonzero(tree.children_left != -1)
    index = {int(node): offset + i for i, node in enumerate(internal)}

    def encode(node: int) -> int:
      return index[node] if tree.children_left[node] != -1 else leaf(tree.value[node, 0])

    for node in internal:
      features.append(int(tree.feature[node]))
      thresholds.append(_threshold_as_float32(float(tree.threshold[node])))
      lefts.append(encode(int(tree.children_left[node])))
      rights.append(encode(int(tree.children_right[node])))
    roots.append(encode(0))
  return {"feature": np.asarray(features, np.int64), "threshold": np.asarray(thresholds, np.float32),
          "left": np.asarray(lefts, np.int64), "right": np.asarray(rights, np.int64),
          "root": np.asarray(roots, np.int64), "leaves": np.asarray(leaves, np.float32).reshape(-1, num_classes)}


_ENSEMBLES = {"RandomForestClassifier": "Random Forest", "ExtraTreesClassifier": "extra-trees ensemble"}


def ensemble_name(estimator) -> str:
  """'Random Forest', 'extra-trees ensemble' or the estimator's class name, for comments and reports."""
  return _ENSEMBLES.get(type(estimator).__name__, type(estimator).__name__)


def model_header(estimator, class_names: Sequence[str]) -> str:
  """model.h: the forest's tables and model_predict_proba(features, probs) -> class id."""
  num_classes = len(class_names)
  flat = flatten_forest(estimator, num_classes)
  n_features = int(estimator.n_features_in_)
  feature_type = "uint8_t" if n_features <= 256 else "uint16_t" if n_features <= 65536 else "uint32_t"
  child_type = _int_type(np.concatenate([flat["left"], flat["right"], flat["root"]]))
  names = ", ".join('"' + str(n).replace("\\", "\\\\").replace('"', '\\"') + '"' for n in class_names)
  leaves = [", ".join(build.float_literal(p) for p in row) for row in flat["leaves"]]
  return f"""/* A {ensemble_name(estimator)} ({len(flat['root'])} trees, {len(flat['feature'])} decision nodes, {len(flat['leaves'])} distinct leaves),
 * written by research/export/c/forest.py from a fitted scikit-learn {type(estimator).__name__}.
 * model_predict_proba(features, probs): probs[c] = mean over trees of the leaf's class fraction
 * (scikit-learn's predict_proba); returns the class id with the highest probability
 * (the first on ties, as numpy.argmax), an index into model_class_names. */
#ifndef MODEL_H_
#define MODEL_H_

#include <stdint.h>

#define MODEL_N_FEATURES {n_features}
#define MODEL_N_CLASSES {num_classes}
#define MODEL_N_TREES {len(flat['root'])}
#define MODEL_N_NODES {max(len(flat['feature']), 1)}
#define MODEL_N_LEAVES {len(flat['leaves'])}

static const char *const model_class_names[MODEL_N_CLASSES] = {{{names}}};

{build.c_array(feature_type, "model_feature", flat["feature"].tolist())}
/* Go left when features[model_feature[n]] <= model_threshold[n] (exact float32 thresholds). */
{build.c_array("float", "model_threshold", [build.float_literal(t) for t in flat["threshold"]], per_line=6)}
/* Children and roots: a node index, or a leaf as -(row + 1) in model_leaves. */
{build.c_array(child_type, "model_left", flat["left"].tolist())}
{build.c_array(child_type, "model_right", flat["right"].tolist())}
{build.c_array(child_type, "model_root", flat["root"].tolist())}
static const float model_leaves[MODEL_N_LEAVES][MODEL_N_CLASSES] = {{
  {{{'}, {'.join(leaves)}}}
}};

static inline int model_predict_proba(const float *features, float *probs) {{
  int t, c, best = 0;
  for (c = 0; c < MODEL_N_CLASSES; ++c) probs[c] = 0.0f;
  for (t = 0; t < MODEL_N_TREES; ++t) {{
    int32_t node = model_root[t];
    const float *leaf;
    while (node >= 0) {{
      node = features[model_feature[node]] <= model_threshold[node] ? model_left[node] : model_right[node];
    }}
    leaf = model_leaves[-node - 1];
    for (c = 0; c < MODEL_N_CLASSES; ++c) probs[c] += leaf[c];
  }}
  for (c = 0; c < MODEL_N_CLASSES; ++c) {{
    probs[c] /= (float)MODEL_N_TREES;
    if (probs[c] > probs[best]) best = c;
  }}
  return best;
}}

#endif /* MODEL_H_ */
"""


def write_forest_c(estimator, feature_names: Sequence[str], threshold: float, sampling_rate: float,
                   num_channels: int, window_length: int, class_names: Sequence[str], out_dir) -> dict[str, Any]:
  """Writes model.h, model_features.h, semg_features.h/.c and main.c into out_dir.

  estimator: a fitted RandomForestClassifier on features.extract(x, feature_names,
  threshold=threshold, sampling_rate=sampling_rate) of (N, window_length, num_channels)
  windows, labels = class ids (indices into class_names).
  Returns {'files', 'forest' (trees, nodes, leaves), 'flash' {'model', 'features'}: .text,
  .rodata, flash_bytes of gcc -Os objects on this host, or 'flash_error' without gcc}.
  """
  expected = len(feature_names) * int(num_channels)
  if int(estimator.n_features_in_) != expected:
    raise ValueError(f"The forest takes {estimator.n_features_in_} features, but {list(feature_names)} over "
                     f"{num_channels} channels makes {expected}; pass the feature config it was fitted on.")
  out_dir = pathlib.Path(out_dir)
  files = features_c_lib.write_features_c(feature_names, threshold, sampling_rate, num_channels, window_length,
                                          out_dir, with_model=True)
  (out_dir / "model.h").write_text(model_header(estimator, class_names))
  flat = flatten_forest(estimator, len(class_names))
  result: dict[str, Any] = {
      "files": ["model.h", *files],
      "forest": {"trees": int(len(flat["root"])), "decision_nodes": int(len(flat["feature"])),
                 "distinct_leaves": int(len(flat["leaves"])), "features": expected,
                 "classes": len(class_names)},
  }
  if build.compiler() is None:
    result["flash_error"] = "no C compiler (gcc) on the PATH"
    return result
  model_unit = '#include "model.h"\nint model_entry(const float *f, float *p) { return model_predict_proba(f, p); }\n'
  feature_unit = '#include "semg_features.c"\n'
  result["flash"] = {"model": build.flash_size(model_unit, out_dir), "features": build.flash_size(feature_unit, out_dir),
                     "compiler": "gcc -std=c99 -Os -c (host ISA; tables in .rodata are the same on any target)"}
  return result


def predict_c(folder, windows) -> dict[str, np.ndarray]:
  """Compiles the harness in `folder` (from write_forest_c) and runs it on (N, T[, C]) windows.

  Returns {'label': (N,) class ids, 'probs': (N, classes) float32}.
  """
  binary = build.compile_harness(folder)
  rows = build.run_harness(binary, build.as_windows(windows), [])
  return {"label": np.asarray([int(r[0]) for r in rows], np.int32),
          "probs": np.asarray([[float(v) for v in r[2:]] for r in rows], np.float32)}


def supports(run) -> bool:
  """Whether `run` is a tree ensemble on hand-made features (what this module writes as C)."""
  from sklearn.ensemble import RandomForestClassifier
  return (run.model is None and run.feature_map is not None
          and isinstance(getattr(run.head, "model", None), RandomForestClassifier))


def export_run(run, held: dict, out_dir, split_name: str = "test") -> dict[str, Any]:
  """Writes the run's forest and features as C into out_dir and checks it against the run on `held`.

  Returns the export.json record: files, forest size, flash bytes and, where a C
  compiler exists, the C program's agreement with the run's own predictions.
  """
  shape = list(run.meta["input_shape"])
  window_length, num_channels = int(shape[0]), int(shape[1]) if len(shape) > 1 else 1
  features = run.feature_map
  result = write_forest_c(run.head.model, features.names, features.threshold, features.sampling_rate,
                          num_channels, window_length, run.meta["class_names"], out_dir)
  record = {"exported": True, "format": "C99 (model.h, model_features.h, semg_features.c, main.c)",
            "model": "random forest on hand-made features", **result,
            "notes": [getattr(run.head, "not_exportable", "")]}
  if build.compiler() is None or not len(held["x"]):
    record["parity"] = {"checked": False, "reason": "no C compiler (gcc) on the PATH" if build.compiler() is None
                        else f"the {split_name} split is empty"}
    return record
  got = predict_c(out_dir, held["x"])
  expected = run.predict(held)["probs"]
  record["parity"] = {"checked": True, "split": split_name, "examples": int(len(held["x"])),
                      "class_agreement": float(np.mean(got["label"] == expected.argmax(1))),
                      "max_abs_prob_diff": float(np.abs(got["probs"] - expected).max())}
  return record


def report(record: dict[str, Any], workdir) -> tuple[str, list[str]]:
  """The summary of export_run's record and the failed checks (classes not all the run's)."""
  forest, parity = record["forest"], record["parity"]
  lines = [f"{record['model']}: {forest['trees']} trees, {forest['decision_nodes']} decision nodes -> "
           f"{', '.join(record['files'])} ({record['format']})"]
  flash = record.get("flash")
  if flash:
    lines.append(f"flash: model {flash['model']['flash_bytes']:,} bytes + features "
                 f"{flash['features']['flash_bytes']:,} bytes")
  parity_lines, errors = build.parity_lines(parity, "windows")
  lines += parity_lines
  lines.append(f"Wrote {workdir}/model.h, main.c and the feature sources, export.json")
  return "\n".join(lines), errors

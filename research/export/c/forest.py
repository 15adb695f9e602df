"""A fitted Random Forest and its sEMG window features as portable C (C99, float32, no malloc).

`write_forest_c` writes, into one folder:
  model.h            the forest as constant tables (per node: feature, threshold, children;
                     per distinct leaf: class probabilities) and model_predict_proba()
  model_features.h   the feature configuration (names, threshold, sampling rate, window shape)
                     and features_extract() over one window (not "features.h": glibc has one)
  semg_features.h/.c the features themselves (research/export/c/, features.py's definitions)
  main.c             an example: reads float32 windows, prints class and probabilities

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

import importlib.resources
import pathlib
import shutil
import subprocess
import tempfile
from typing import Any, Sequence

import numpy as np

from research.heads import features as features_lib

C_FLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-pedantic")
FEATURE_SOURCES = ("semg_features.h", "semg_features.c")
FEATURE_ENUM = {name: f"SEMG_{name.upper()}" for name in features_lib.FEATURES}
SPECTRAL = ("mnf", "mdf")


def c_sources() -> pathlib.Path:
  """The folder of the package's C sources (research/export/c)."""
  return pathlib.Path(str(importlib.resources.files("research.export.c")))


def compiler() -> str | None:
  """The C compiler used here: $CC-like gcc on the PATH, or None."""
  return shutil.which("gcc")


def _float_literal(value: float) -> str:
  """An exact C float literal of a float32 value (hexadecimal, C99)."""
  value = float(np.float32(value))
  if not np.isfinite(value):
    raise ValueError(f"Cannot write a non-finite float32 constant {value} into C")
  return f"{value.hex()}f"


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


def _array(ctype: str, name: str, values, per_line: int = 12) -> str:
  items = [str(v) for v in values] or ["0"]
  lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
  body = ",\n  ".join(lines)
  return f"static const {ctype} {name}[{max(len(values), 1)}] = {{\n  {body}\n}};"


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


def model_header(estimator, class_names: Sequence[str]) -> str:
  """model.h: the forest's tables and model_predict_proba(features, probs) -> class id."""
  num_classes = len(class_names)
  flat = flatten_forest(estimator, num_classes)
  n_features = int(estimator.n_features_in_)
  feature_type = "uint8_t" if n_features <= 256 else "uint16_t"
  child_type = _int_type(np.concatenate([flat["left"], flat["right"], flat["root"]]))
  names = ", ".join('"' + str(n).replace("\\", "\\\\").replace('"', '\\"') + '"' for n in class_names)
  leaves = [", ".join(_float_literal(p) for p in row) for row in flat["leaves"]]
  return f"""/* A Random Forest ({len(flat['root'])} trees, {len(flat['feature'])} decision nodes, {len(flat['leaves'])} distinct leaves),
 * written by research/export/forest_c.py from a fitted scikit-learn RandomForestClassifier.
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

{_array(feature_type, "model_feature", flat["feature"].tolist())}
/* Go left when features[model_feature[n]] <= model_threshold[n] (exact float32 thresholds). */
{_array("float", "model_threshold", [_float_literal(t) for t in flat["threshold"]], per_line=6)}
/* Children and roots: a node index, or a leaf as -(row + 1) in model_leaves. */
{_array(child_type, "model_left", flat["left"].tolist())}
{_array(child_type, "model_right", flat["right"].tolist())}
{_array(child_type, "model_root", flat["root"].tolist())}
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


def features_header(feature_names: Sequence[str], threshold: float, sampling_rate: float,
                    num_channels: int, window_length: int) -> str:
  """model_features.h: the configuration of features.extract and features_extract(window, out)."""
  unknown = [n for n in feature_names if n not in FEATURE_ENUM]
  if unknown or not feature_names:
    raise ValueError(f"Feature names {list(feature_names)} (config.features.names): unknown {unknown}; "
                     f"valid: {sorted(FEATURE_ENUM)}")
  if num_channels < 1 or window_length < 2:
    raise ValueError(f"Windows must have >= 1 channel and >= 2 samples; found {num_channels} channels "
                     f"of {window_length} samples.")
  spectral = any(n in SPECTRAL for n in feature_names)
  work = "SEMG_WORK_FLOATS(FEATURES_WINDOW_LENGTH)" if spectral else "1"
  return f"""/* The sEMG window features of research/heads/features.py, configured as the model was trained:
 * features_extract(window, out) with window[t * FEATURES_CHANNELS + c] (a (T, C) float32 array)
 * fills out[i * FEATURES_CHANNELS + c] = feature i of channel c (features.extract's column order:
 * {', '.join(features_lib.feature_names(feature_names, num_channels))}). */
#ifndef MODEL_FEATURES_H_
#define MODEL_FEATURES_H_

#include "semg_features.h"

#define FEATURES_WINDOW_LENGTH {int(window_length)}
#define FEATURES_CHANNELS {int(num_channels)}
#define FEATURES_COUNT {len(feature_names)}
#define FEATURES_LENGTH (FEATURES_COUNT * FEATURES_CHANNELS)

static const semg_feature features_names[FEATURES_COUNT] = {{{', '.join(FEATURE_ENUM[n] for n in feature_names)}}};
static const float features_threshold = {_float_literal(threshold)}; /* {threshold!r} */
static const float features_sampling_rate = {_float_literal(sampling_rate)}; /* {sampling_rate!r} Hz */
/* Scratch for the spectrum (MNF, MDF): static, so no malloc. */
static float features_work[{work}];

static inline int features_extract(const float *window, float *out) {{
  return semg_extract(window, FEATURES_WINDOW_LENGTH, FEATURES_CHANNELS, features_names, FEATURES_COUNT,
                      features_threshold, features_sampling_rate, features_work, out);
}}

#endif /* MODEL_FEATURES_H_ */
"""


def main_source(with_model: bool = True) -> str:
  """main.c: reads windows (raw float32, native byte order, T x C each) from a file or stdin and
  prints one line per window: the class id, its name and the probabilities (with the model), or
  the features (without one, or with --features)."""
  include = '#include "model.h"\n' if with_model else ""
  flag = ('  int print_features = argc > 2 && strcmp(argv[2], "--features") == 0;\n' if with_model else "")
  predict = """    if (!print_features) {
      float probs[MODEL_N_CLASSES];
      int c, best = model_predict_proba(features, probs);
      printf("%d %s", best, model_class_names[best]);
      for (c = 0; c < MODEL_N_CLASSES; ++c) printf(" %.9g", probs[c]);
      printf("\\n");
      continue;
    }
""" if with_model else ""
  return f"""/* Example: classify sEMG windows on the command line.
 *   main WINDOWS.f32 [--features]      (or read the windows from stdin: main - )
 * WINDOWS.f32 holds consecutive windows of FEATURES_WINDOW_LENGTH x FEATURES_CHANNELS float32
 * values (numpy: x.astype(np.float32).tofile(path) for x of shape (N, T, C)). */
#include <stdio.h>
#include <string.h>

#include "model_features.h"
{include}
int main(int argc, char **argv) {{
  static float window[FEATURES_WINDOW_LENGTH * FEATURES_CHANNELS];
  float features[FEATURES_LENGTH];
{flag}  FILE *in = stdin;
  if (argc > 1 && strcmp(argv[1], "-") != 0) in = fopen(argv[1], "rb");
  if (in == NULL) {{
    fprintf(stderr, "cannot open %s\\n", argv[1]);
    return 1;
  }}
  while (fread(window, sizeof(float), FEATURES_WINDOW_LENGTH * FEATURES_CHANNELS, in) ==
         (size_t)(FEATURES_WINDOW_LENGTH * FEATURES_CHANNELS)) {{
    int i;
    if (features_extract(window, features) != 0) {{
      fprintf(stderr, "features_extract failed\\n");
      return 1;
    }}
{predict}    for (i = 0; i < FEATURES_LENGTH; ++i) printf(i ? " %.9g" : "%.9g", features[i]);
    printf("\\n");
  }}
  if (in != stdin) fclose(in);
  return 0;
}}
"""


def write_features_c(feature_names: Sequence[str], threshold: float, sampling_rate: float,
                     num_channels: int, window_length: int, out_dir, *, with_model: bool = False) -> list[str]:
  """model_features.h, semg_features.h/.c and main.c (printing features unless with_model) in out_dir."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / "model_features.h").write_text(features_header(feature_names, threshold, sampling_rate,
                                                      num_channels, window_length))
  for name in FEATURE_SOURCES:
    shutil.copyfile(c_sources() / name, out_dir / name)
  (out_dir / "main.c").write_text(main_source(with_model=with_model))
  return ["model_features.h", *FEATURE_SOURCES, "main.c"]


def _sections(object_file: pathlib.Path) -> dict[str, int]:
  size = shutil.which("size")
  if size is None:
    raise RuntimeError("binutils' `size` is not on the PATH; it reads the sections of the compiled object.")
  out = subprocess.run([size, "-A", str(object_file)], capture_output=True, text=True, check=True).stdout
  sections: dict[str, int] = {}
  for line in out.splitlines():
    parts = line.split()
    if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
      key = ".rodata" if parts[0].startswith(".rodata") else ".text" if parts[0].startswith(".text") else parts[0]
      sections[key] = sections.get(key, 0) + int(parts[1])
  return sections


def flash_size(source: str, folder, cc: str | None = None) -> dict[str, int]:
  """.text, .rodata and their sum of `source` (C code) compiled with gcc -Os -c (this host's ISA)."""
  cc = cc or compiler()
  if cc is None:
    raise RuntimeError("No C compiler (gcc) on the PATH: cannot measure the compiled size.")
  folder = pathlib.Path(folder)
  with tempfile.TemporaryDirectory() as tmp:
    src, obj = pathlib.Path(tmp) / "unit.c", pathlib.Path(tmp) / "unit.o"
    src.write_text(source)
    subprocess.run([cc, "-std=c99", "-Os", "-iquote", str(folder), "-c", str(src), "-o", str(obj)],
                   capture_output=True, text=True, check=True)
    sections = _sections(obj)
  text, rodata = sections.get(".text", 0), sections.get(".rodata", 0)
  return {"text": text, "rodata": rodata, "flash_bytes": text + rodata}


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
  files = write_features_c(feature_names, threshold, sampling_rate, num_channels, window_length, out_dir,
                           with_model=True)
  (out_dir / "model.h").write_text(model_header(estimator, class_names))
  flat = flatten_forest(estimator, len(class_names))
  result: dict[str, Any] = {
      "files": ["model.h", *files],
      "forest": {"trees": int(len(flat["root"])), "decision_nodes": int(len(flat["feature"])),
                 "distinct_leaves": int(len(flat["leaves"])), "features": expected,
                 "classes": len(class_names)},
  }
  if compiler() is None:
    result["flash_error"] = "no C compiler (gcc) on the PATH"
    return result
  model_unit = '#include "model.h"\nint model_entry(const float *f, float *p) { return model_predict_proba(f, p); }\n'
  feature_unit = '#include "semg_features.c"\n'
  result["flash"] = {"model": flash_size(model_unit, out_dir), "features": flash_size(feature_unit, out_dir),
                     "compiler": "gcc -std=c99 -Os -c (host ISA; tables in .rodata are the same on any target)"}
  return result


def compile_harness(folder, cc: str | None = None) -> pathlib.Path:
  """Compiles main.c + semg_features.c in `folder` into folder/main; returns its path."""
  cc = cc or compiler()
  if cc is None:
    raise RuntimeError("No C compiler (gcc) on the PATH: cannot build the C harness.")
  folder = pathlib.Path(folder)
  binary = folder / "main"
  done = subprocess.run([cc, *C_FLAGS, "-o", str(binary), str(folder / "main.c"),
                         str(folder / "semg_features.c"), "-lm"], capture_output=True, text=True)
  if done.returncode != 0:
    raise RuntimeError(f"gcc failed on {folder}/main.c:\n{done.stderr[-2000:]}")
  if done.stderr.strip():
    raise RuntimeError(f"gcc warned on {folder}/main.c (the sources must compile cleanly):\n{done.stderr[-2000:]}")
  return binary


def _run(binary, windows: np.ndarray, flag: list[str]) -> list[list[str]]:
  with tempfile.NamedTemporaryFile(suffix=".f32") as data:
    np.ascontiguousarray(windows, dtype=np.float32).tofile(data.name)
    done = subprocess.run([str(binary), data.name, *flag], capture_output=True, text=True)
  if done.returncode != 0:
    raise RuntimeError(f"{binary} failed ({done.returncode}): {done.stderr[-1000:]}")
  rows = [line.split() for line in done.stdout.splitlines() if line.strip()]
  if len(rows) != len(windows):
    raise RuntimeError(f"{binary} printed {len(rows)} lines for {len(windows)} windows")
  return rows


def _as_windows(windows) -> np.ndarray:
  x = np.asarray(windows, np.float32)
  return x[:, :, None] if x.ndim == 2 else x


def predict_c(folder, windows) -> dict[str, np.ndarray]:
  """Compiles the harness in `folder` (from write_forest_c) and runs it on (N, T[, C]) windows.

  Returns {'label': (N,) class ids, 'probs': (N, classes) float32}.
  """
  binary = compile_harness(folder)
  rows = _run(binary, _as_windows(windows), [])
  return {"label": np.asarray([int(r[0]) for r in rows], np.int32),
          "probs": np.asarray([[float(v) for v in r[2:]] for r in rows], np.float32)}


def features_c(windows, feature_names: Sequence[str], threshold: float = 0.0,
               sampling_rate: float = 1000.0, folder=None) -> np.ndarray:
  """features.extract computed by the C sources (compiled here with gcc): (N, len(names) * C) float32."""
  x = _as_windows(windows)
  with tempfile.TemporaryDirectory() as tmp:
    folder = pathlib.Path(folder or tmp)
    write_features_c(feature_names, threshold, sampling_rate, x.shape[2], x.shape[1], folder)
    rows = _run(compile_harness(folder), x, [])
  return np.asarray([[float(v) for v in r] for r in rows], np.float32)


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
  if compiler() is None or not len(held["x"]):
    record["parity"] = {"checked": False, "reason": "no C compiler (gcc) on the PATH" if compiler() is None
                        else f"the {split_name} split is empty"}
    return record
  got = predict_c(out_dir, held["x"])
  expected = run.predict(held)["probs"]
  record["parity"] = {"checked": True, "split": split_name, "examples": int(len(held["x"])),
                      "class_agreement": float(np.mean(got["label"] == expected.argmax(1))),
                      "max_abs_prob_diff": float(np.abs(got["probs"] - expected).max())}
  return record

"""QUANT and its tree ensemble as portable C (C99, float32, no malloc), checked against the run.

`write_quant_c` writes, into one folder:
  model_features.h   the fitted QUANT as constant tables (per interval: representation, start,
                     end, first feature; per feature: the two ranks, the interpolation weight,
                     whether the mean is subtracted; the DFT's cosine and sine table), the
                     static scratch, and features_extract(series, out)
  quant_features.h/.c  the extractor itself (this folder)
  model.h            the trees (forest.py's writer: exact float32 thresholds, mean leaf fractions)
  main.c             an example: reads float32 series, prints the class and probabilities (or the
                     features with --features, or the C time per series with --time)

The tables come from quant.py's own functions (intervals, quantile_plan, torch_linspace), so the C
re-derives none of the float32 position rounding. The DFT twiddles are a precomputed table of
cos/sin(2 pi m / L), m < L (8 L bytes of flash), indexed by k t mod L: each value rounded once from
float64, no sinf/cosf on the device and no drift from a recurrence. The naive DFT (L^2 / 2
multiply-adds per sum) costs about what the sorting does at L ~ 100 (~50 L log2 L comparisons)
and more beyond: an FFT is the next step for long series.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile
from typing import Any, Sequence

import numpy as np

from research.export.c import build
from research.export.c import forest as forest_c
from research.heads import quant as quant_lib

FEATURE_SOURCES = ("quant_features.h", "quant_features.c")
MAX_LENGTH = 65535  # positions and ranks are uint16_t


def feature_tables(params) -> dict[str, np.ndarray]:
  """One channel's QUANT plan as flat tables, in quant.transform's feature order."""
  length, depth, divisor = int(params["length"]), int(params["depth"]), int(params["divisor"])
  columns: dict[str, list] = {k: [] for k in ("representation", "start", "end", "first_feature",
                                              "lower", "upper", "weight", "centred")}
  for which, representation_length in enumerate(quant_lib.representation_lengths(length)):
    for level in quant_lib.intervals(representation_length, depth):
      widths = level[:, 1] - level[:, 0]
      interval, lower, upper, weight, centred = quant_lib.quantile_plan(widths, divisor)
      first = len(columns["lower"])
      for i, (start, end) in enumerate(level):
        columns["representation"].append(which)
        columns["start"].append(int(start))
        columns["end"].append(int(end))
        columns["first_feature"].append(first + int(np.searchsorted(interval, i)))
      columns["lower"] += lower.tolist()
      columns["upper"] += upper.tolist()
      columns["weight"] += weight.tolist()
      columns["centred"] += centred.astype(int).tolist()
  columns["first_feature"].append(len(columns["lower"]))
  tables = {k: np.asarray(v, np.float32 if k == "weight" else np.int64) for k, v in columns.items()}
  angle = 2 * np.pi * np.arange(length) / length
  tables["cos"], tables["sin"] = np.cos(angle), np.sin(angle)
  quarter = (4 * np.arange(length)) % length == 0  # exact 0 and +-1 at the quarter turns
  tables["cos"][quarter], tables["sin"][quarter] = np.round(tables["cos"][quarter]), np.round(tables["sin"][quarter])
  return tables


def features_header(params) -> str:
  """model_features.h: the fitted QUANT's tables, its scratch and features_extract(series, out)."""
  length, channels = int(params["length"]), int(params["num_channels"])
  if length > MAX_LENGTH:
    raise ValueError(f"QUANT in C takes series of at most {MAX_LENGTH} frames (uint16_t positions); "
                     f"this run was fitted on {length}")
  t = feature_tables(params)
  per_channel = len(t["lower"])
  assert per_channel * channels == quant_lib.num_output_features(params)
  floats = lambda values: [build.float_literal(v) for v in values]
  array = build.c_array
  return f"""/* QUANT as fitted (research/heads/quant.py): series of {length} frames x {channels} channels, depth
 * {int(params['depth'])}, divisor {int(params['divisor'])}: {len(t['start'])} intervals and {per_channel} features per channel.
 * Written by research/export/c/quant.py from quant.py's intervals and quantile plan.
 * features_extract(series, out): series[t * FEATURES_CHANNELS + c] (a (T, C) float32 array; a
 * shorter series zero-padded to FEATURES_WINDOW_LENGTH), out[c * QUANT_FEATURES_PER_CHANNEL + f]. */
#ifndef MODEL_FEATURES_H_
#define MODEL_FEATURES_H_

#include <stdint.h>

#include "quant_features.h"

#define FEATURES_WINDOW_LENGTH {length}
#define FEATURES_CHANNELS {channels}
#define QUANT_INTERVALS {len(t['start'])}
#define QUANT_FEATURES_PER_CHANNEL {per_channel}
#define FEATURES_LENGTH (QUANT_FEATURES_PER_CHANNEL * FEATURES_CHANNELS)

/* Per interval: representation (0 series, 1 smoothed difference, 2 second difference, 3 |DFT|),
 * [start, end), its first feature (one more entry: the end). */
{array("uint8_t", "quant_interval_representation", t["representation"].tolist())}
{array("uint16_t", "quant_interval_start", t["start"].tolist())}
{array("uint16_t", "quant_interval_end", t["end"].tolist())}
{array("uint32_t", "quant_interval_first_feature", t["first_feature"].tolist())}
/* Per feature: the ranks below and above, the weight between them, 1 = minus the interval's mean. */
{array("uint16_t", "quant_feature_lower", t["lower"].tolist())}
{array("uint16_t", "quant_feature_upper", t["upper"].tolist())}
{array("float", "quant_feature_weight", floats(t["weight"]), per_line=6)}
{array("uint8_t", "quant_feature_centred", t["centred"].tolist(), per_line=24)}
/* cos and sin of 2 pi m / FEATURES_WINDOW_LENGTH (float64 rounded once to float32). */
{array("float", "quant_dft_cos", floats(t["cos"]), per_line=6)}
{array("float", "quant_dft_sin", floats(t["sin"]), per_line=6)}
/* The extractor's scratch: static, so no malloc. */
static float quant_scratch[QUANT_SCRATCH_FLOATS(FEATURES_WINDOW_LENGTH)];

static const quant_model quant_fitted = {{
  FEATURES_WINDOW_LENGTH, FEATURES_CHANNELS, QUANT_INTERVALS, QUANT_FEATURES_PER_CHANNEL,
  quant_interval_representation, quant_interval_start, quant_interval_end,
  quant_interval_first_feature, quant_feature_lower, quant_feature_upper, quant_feature_weight,
  quant_feature_centred, quant_dft_cos, quant_dft_sin, quant_scratch
}};

static inline int features_extract(const float *series, float *out) {{
  return quant_extract(&quant_fitted, series, out);
}}

#endif /* MODEL_FEATURES_H_ */
"""


def main_source(with_model: bool = True) -> str:
  """main.c: reads series (raw float32, native byte order, T x C each) from a file or stdin and
  prints per series the class id, its name and the probabilities (with the model), or the
  features (without one, or with --features); --time prints only the C seconds per series."""
  include = '#include "model.h"\n' if with_model else ""
  classify = """    if (!print_features) best = model_predict_proba(features, probs);
""" if with_model else ""
  print_class = """    if (!print_features) {
      int c;
      printf("%d %s", best, model_class_names[best]);
      for (c = 0; c < MODEL_N_CLASSES; ++c) printf(" %.9g", probs[c]);
      printf("\\n");
      continue;
    }
""" if with_model else ""
  declare = ("  static float probs[MODEL_N_CLASSES];\n"
             '  int print_features = argc > 2 && strcmp(argv[2], "--features") == 0;\n' if with_model
             else "")
  return f"""/* Example: classify series with QUANT and the trees on the command line.
 *   main SERIES.f32 [--features | --time]      (or read the series from stdin: main - )
 * SERIES.f32 holds consecutive series of FEATURES_WINDOW_LENGTH x FEATURES_CHANNELS float32
 * values (numpy: x.astype(np.float32).tofile(path) for x of shape (N, T, C)). --time prints
 * only the processor seconds per series (features and classification, reading excluded). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "model_features.h"
{include}
int main(int argc, char **argv) {{
  static float series[FEATURES_WINDOW_LENGTH * FEATURES_CHANNELS];
  static float features[FEATURES_LENGTH];
{declare}  int only_time = argc > 2 && strcmp(argv[2], "--time") == 0;
  long count = 0;
  clock_t spent = 0;
  FILE *in = stdin;
  if (argc > 1 && strcmp(argv[1], "-") != 0) in = fopen(argv[1], "rb");
  if (in == NULL) {{
    fprintf(stderr, "cannot open %s\\n", argv[1]);
    return 1;
  }}
  while (fread(series, sizeof(float), FEATURES_WINDOW_LENGTH * FEATURES_CHANNELS, in) ==
         (size_t)(FEATURES_WINDOW_LENGTH * FEATURES_CHANNELS)) {{
    int i, best = 0;
    clock_t start = clock();
    if (features_extract(series, features) != 0) {{
      fprintf(stderr, "features_extract failed\\n");
      return 1;
    }}
{classify}    spent += clock() - start;
    ++count;
    if (only_time) continue;
{print_class}    for (i = 0; i < FEATURES_LENGTH; ++i) printf(i ? " %.9g" : "%.9g", features[i]);
    printf("\\n");
    (void)best;
  }}
  if (only_time) printf("%.9g\\n", count ? (double)spent / CLOCKS_PER_SEC / (double)count : 0.0);
  if (in != stdin) fclose(in);
  return 0;
}}
"""


def write_features_c(params, out_dir, *, with_model: bool = False) -> list[str]:
  """model_features.h, quant_features.h/.c and main.c (printing features unless with_model) in out_dir."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / "model_features.h").write_text(features_header(params))
  for name in FEATURE_SOURCES:
    shutil.copyfile(build.c_sources() / name, out_dir / name)
  (out_dir / "main.c").write_text(main_source(with_model=with_model))
  return ["model_features.h", *FEATURE_SOURCES, "main.c"]


def compile_harness(folder) -> pathlib.Path:
  """folder/main built from main.c + quant_features.c with build.C_FLAGS (warnings fail it)."""
  return build.compile_harness(folder, sources=("main.c", "quant_features.c"))


def padded(params, series) -> np.ndarray:
  """(N, T[, C]) series as float32 (N, fitted length, C), zero-padded at the end as quant.transform."""
  x = build.as_windows(series)
  length = int(params["length"])
  if x.shape[1] > length or x.shape[2] != int(params["num_channels"]):
    raise ValueError(f"QUANT in C: series must be (N, at most {length} frames, {int(params['num_channels'])} "
                     f"channels) as fitted; found {x.shape}")
  return np.pad(x, ((0, 0), (0, length - x.shape[1]), (0, 0)))


def features_c(params, series, folder=None) -> np.ndarray:
  """quant.transform computed by the C sources (compiled here with gcc): (N, F) float32."""
  x = padded(params, series)
  with tempfile.TemporaryDirectory() as tmp:
    folder = pathlib.Path(folder or tmp)
    write_features_c(params, folder)
    rows = build.run_harness(compile_harness(folder), x, [])
  return np.asarray([[float(v) for v in r] for r in rows], np.float32)


def write_quant_c(params, estimator, class_names: Sequence[str], out_dir) -> dict[str, Any]:
  """Writes model.h (the fitted tree ensemble), model_features.h, quant_features.h/.c and main.c.

  estimator: a fitted scikit-learn ExtraTreesClassifier (or RandomForestClassifier) on
  quant.transform(params, x), labels = class ids (indices into class_names).
  Returns {'files', 'forest' (trees, nodes, leaves), 'flash' {'model', 'features'}: .text,
  .rodata, flash_bytes of gcc -Os objects on this host, 'ram': static bytes, or
  'flash_error' without gcc}.
  """
  expected = quant_lib.num_output_features(params)
  if int(estimator.n_features_in_) != expected:
    raise ValueError(f"The trees take {estimator.n_features_in_} features, but QUANT as fitted "
                     f"({ {k: int(v) for k, v in params.items()} }) makes {expected}")
  out_dir = pathlib.Path(out_dir)
  files = write_features_c(params, out_dir, with_model=True)
  (out_dir / "model.h").write_text(forest_c.model_header(estimator, class_names))
  flat = forest_c.flatten_forest(estimator, len(class_names))
  result: dict[str, Any] = {
      "files": ["model.h", *files],
      "forest": {"trees": int(len(flat["root"])), "decision_nodes": int(len(flat["feature"])),
                 "distinct_leaves": int(len(flat["leaves"])), "features": expected,
                 "classes": len(class_names)},
      "quant": {k: int(v) for k, v in params.items()},
  }
  if build.compiler() is None:
    result["flash_error"] = "no C compiler (gcc) on the PATH"
    return result
  model_unit = '#include "model.h"\nint model_entry(const float *f, float *p) { return model_predict_proba(f, p); }\n'
  feature_unit = ('#include "model_features.h"\n#include "quant_features.c"\n'
                  'int features_entry(const float *x, float *f) { return features_extract(x, f); }\n')
  result["flash"] = {"model": build.flash_size(model_unit, out_dir), "features": build.flash_size(feature_unit, out_dir),
                     "compiler": "gcc -std=c99 -Os -c (host ISA; tables in .rodata are the same on any target)"}
  scratch = build.static_ram_size(feature_unit, out_dir)
  series_bytes = 4 * int(params["length"]) * int(params["num_channels"])
  buffers = 4 * (expected + len(class_names))
  result["ram"] = {"scratch_bytes": scratch, "series_bytes": series_bytes, "features_and_probs_bytes": buffers,
                   "static_bytes": scratch + series_bytes + buffers,
                   "how": "scratch = .bss of the gcc -Os feature object (3 x length floats); plus the caller's "
                          "series, features and probabilities as float32; the stack (a few locals per call, "
                          "no recursion) is not counted"}
  return result


def predict_c(folder, series) -> dict[str, np.ndarray]:
  """Builds the harness in `folder` (from write_quant_c) and runs it on zero-padded (N, T, C) series.

  Returns {'label': (N,) class ids, 'probs': (N, classes) float32, 'features': (N, F) float32}.
  """
  binary = compile_harness(folder)
  x = build.as_windows(series)
  rows = build.run_harness(binary, x, [])
  features = build.run_harness(binary, x, ["--features"])
  return {"label": np.asarray([int(r[0]) for r in rows], np.int32),
          "probs": np.asarray([[float(v) for v in r[2:]] for r in rows], np.float32),
          "features": np.asarray([[float(v) for v in r] for r in features], np.float32)}


def seconds_per_series(folder, series, repeats: int = 1) -> float:
  """The harness's processor seconds per series (features and trees), over `repeats` passes."""
  x = np.concatenate([build.as_windows(series)] * repeats)
  with tempfile.NamedTemporaryFile(suffix=".f32") as data:
    x.astype(np.float32).tofile(data.name)
    done = subprocess.run([str(pathlib.Path(folder) / "main"), data.name, "--time"], capture_output=True,
                          text=True, check=True)
  return float(done.stdout.split()[0])


def relative_difference(params, got_NF, expected_NF) -> float:
  """The largest |got - expected| over the largest |expected| of the same series, channel and
  representation (quantiles, and quantiles minus means, of one representation share its scale)."""
  tables = feature_tables(params)
  channels = int(params["num_channels"])
  representation = np.repeat(tables["representation"], np.diff(tables["first_feature"]))
  group_F = (np.arange(channels)[:, None] * 4 + representation[None, :]).reshape(-1)
  expected_NF = np.asarray(expected_NF, np.float64)
  scale_NG = np.zeros((len(expected_NF), 4 * channels))
  np.maximum.at(scale_NG.T, group_F, np.abs(expected_NF).T)
  diff = np.abs(np.asarray(got_NF, np.float64) - expected_NF)
  return float((diff / np.maximum(scale_NG[:, group_F], 1e-30)).max())


def supports(run) -> bool:
  """Whether `run` is a tree ensemble on QUANT features (what this module writes as C)."""
  from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
  return (run.model is None and getattr(run.feature_map, "kind", None) == "quant"
          and isinstance(getattr(run.head, "model", None), (ExtraTreesClassifier, RandomForestClassifier)))


def export_run(run, held: dict, out_dir, split_name: str = "test") -> dict[str, Any]:
  """Writes the run's QUANT and trees as C into out_dir and checks them against the run on `held`.

  Returns the export.json record: files, sizes (flash, RAM) and, where a C compiler exists, the
  C program's class agreement with the run, its largest feature and probability differences and
  its processor time per series on this host.
  """
  params = run.feature_map.params
  estimator = run.head.model
  result = write_quant_c(params, estimator, run.meta["class_names"], out_dir)
  record = {"exported": True, "format": "C99 (model.h, model_features.h, quant_features.h/.c, main.c)",
            "model": f"QUANT + {forest_c.ensemble_name(estimator)}", **result}
  if build.compiler() is None or not len(held["x"]):
    record["parity"] = {"checked": False, "reason": "no C compiler (gcc) on the PATH" if build.compiler() is None
                        else f"the {split_name} split is empty"}
    return record
  x = padded(params, held["x"])
  got = predict_c(out_dir, x)
  expected = run.predict(held)["probs"]
  features = np.asarray(run.features(held), np.float32)
  feature_diff = np.abs(got["features"].astype(np.float64) - features)
  record["parity"] = {
      "checked": True, "split": split_name, "examples": int(len(x)),
      "class_agreement": float(np.mean(got["label"] == expected.argmax(1))),
      "max_abs_prob_diff": float(np.abs(got["probs"] - expected).max()),
      "max_abs_feature_diff": float(feature_diff.max()),
      "max_feature_diff_relative": relative_difference(params, got["features"], features),
      "features_bit_identical": float(np.mean(got["features"] == features))}
  record["c_seconds_per_series"] = seconds_per_series(out_dir, x, repeats=max(1, 200 // len(x)))
  record["c_seconds_how"] = "clock() around features_extract + model_predict_proba in main.c, gcc -O2, this host"
  return record


def report(record: dict[str, Any], workdir) -> tuple[str, list[str]]:
  """The summary of export_run's record and the failed checks (classes not all the run's)."""
  forest, q = record["forest"], record["quant"]
  lines = [f"{record['model']}: QUANT on {q['length']} frames x {q['num_channels']} channels "
           f"({forest['features']:,} features), {forest['trees']} trees, {forest['decision_nodes']:,} decision "
           f"nodes -> {', '.join(record['files'])} (C99)"]
  flash, ram = record.get("flash"), record.get("ram")
  if flash:
    lines.append(f"flash: model {flash['model']['flash_bytes']:,} bytes + features "
                 f"{flash['features']['flash_bytes']:,} bytes; static RAM {ram['static_bytes']:,} bytes "
                 f"(scratch {ram['scratch_bytes']:,}, series {ram['series_bytes']:,}, features and "
                 f"probabilities {ram['features_and_probs_bytes']:,}; stack not counted)")
  parity = record["parity"]
  parity_lines, errors = build.parity_lines(parity, "series")
  lines += parity_lines
  if parity["checked"]:
    lines.append(f"features: max difference {parity['max_abs_feature_diff']:.2e} "
                 f"({parity['max_feature_diff_relative']:.1e} of the largest |feature| of its representation), "
                 f"{parity['features_bit_identical']:.1%} bit-identical; C time "
                 f"{1e3 * record['c_seconds_per_series']:.3f} ms per series on this host")
  lines.append(f"Wrote {workdir}/model.h, main.c and the feature sources, export.json")
  return "\n".join(lines), errors

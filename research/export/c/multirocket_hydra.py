"""A MultiRocket-Hydra run (features + the leave-one-out ridge) as portable C (C99, float32, no malloc).

Written into one folder:
  model.h                          the fitted run as constant tables (Hydra's kernel weights,
                                   channels and dilations; MiniRocket's dilations, biases and channel
                                   combinations for the series and its difference; the scaler's means
                                   and stds; the ridge's coefficients and intercepts) and `model`
  multirocket_hydra_features.h/.c  the transform, the scaling and the decision (this folder)
  main.c                           an example: reads float32 windows, prints class, name and the
                                   decision scores (or, with --features, the raw features)

The C code computes the features in the Python order (research/heads/hydra.py, then
research/heads/multirocket.py), scales each as research/heads/feature_maps_quant_hydra.py does and
adds it into the ridge decision as it is made, so classifying a window needs no feature buffer:
RAM is the window, the scratch (MRH_SCRATCH_FLOATS: 3 T + 3 K floats) and the scores.

Parity is not bit-exact: the convolutions sum their taps in another order than XLA's matrix
products, so an output within a rounding of a bias (or of another Hydra kernel's output) can land
on the other side; PPV, LSPV and Hydra's hard counts then differ by a count. `export_run` reports
how many do, beside the class agreement and the decision scores' largest difference.
"""

from __future__ import annotations

import pathlib
import shutil
import time
from typing import Any, Sequence

import numpy as np

from research.export.c import build
from research.heads import hydra as hydra_lib
from research.heads import minirocket
from research.heads import multirocket as multirocket_lib

SOURCES = ("multirocket_hydra_features.h", "multirocket_hydra_features.c")
MAX_CHANNELS = 256  # the C code's per-channel weight array
FORMAT = "C99, float32, no malloc"


def _array(ctype: str, name: str, values: Sequence[str], per_line: int = 8) -> str:
  items = list(values) or ["0"]
  lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
  return f"static const {ctype} {name}[{len(items)}] = {{\n  " + ",\n  ".join(lines) + "\n};"


def _floats(name: str, values) -> str:
  return _array("float", name, [build.float_literal(v) for v in np.ravel(values)], per_line=6)


def _ints(ctype: str, name: str, values) -> str:
  return _array(ctype, name, [str(int(v)) for v in np.ravel(values)], per_line=16)


def num_features(params) -> tuple[int, int]:
  """(Hydra features, MultiRocket features) of fitted MultiRocket-Hydra params."""
  return hydra_lib.num_output_features(params["hydra"]), multirocket_lib.num_output_features(params["multirocket"])


def model_header(params, ridge_arrays: dict, class_names: Sequence[str], length: int) -> str:
  """model.h: the fitted run's tables and `static const mrh_model model`.

  params: MultiRocketHydra.params ({'hydra', 'multirocket', 'scale'}); ridge_arrays: the ridge's
  arrays (scale, coef (D, classes), intercept), fitted on the scaled features.
  """
  h, rockets, scale = params["hydra"], params["multirocket"], params["scale"]
  channels = int(h["num_channels"])
  if channels > MAX_CHANNELS:
    raise ValueError(f"The C code reads at most {MAX_CHANNELS} channels; this run has {channels}.")
  if length < minirocket.KERNEL_LENGTH + 1:
    raise ValueError(f"Series of {length} frames: MultiRocket-Hydra needs at least 10.")
  hydra_count, rocket_count = num_features(params)
  coef = np.asarray(ridge_arrays["coef"], np.float64)
  if coef.shape != (hydra_count + rocket_count, len(class_names)):
    raise ValueError(f"The ridge has coefficients {coef.shape}; the features make {hydra_count + rocket_count} "
                     f"columns for {len(class_names)} classes: the head was not fitted on these features.")
  coef = coef / np.asarray(ridge_arrays["scale"], np.float64)[:, None]  # 1 unless the ridge standardized
  series = rockets["series"]
  combo_start = np.concatenate([[0], np.cumsum(series["num_channels_per_combination"])])
  _, halves, groups, kernels, _ = h["weights"].shape
  names = ", ".join('"' + str(n).replace("\\", "\\\\").replace('"', '\\"') + '"' for n in class_names)
  tables = [
      _ints("int32_t", "model_hydra_dilations", h["dilations"]),
      _floats("model_hydra_weights", h["weights"]),
      _ints("uint16_t", "model_hydra_channels", h["channel_indices"]),
      _ints("int32_t", "model_combo_start", combo_start),
      _ints("uint16_t", "model_combo_channels", series["channel_indices"]),
  ]
  for name in multirocket_lib.REPRESENTATIONS:
    p = rockets[name]
    tables += [_ints("int32_t", f"model_{name}_dilations", p["dilations"]),
               _ints("int32_t", f"model_{name}_biases_per_dilation", p["num_features_per_dilation"]),
               _floats(f"model_{name}_biases", p["biases"])]
  tables += [_floats("model_hydra_mean", scale["hydra_mean"]), _floats("model_hydra_std", scale["hydra_std"]),
             _floats("model_rocket_mean", scale["multirocket_mean"]),
             _floats("model_rocket_std", scale["multirocket_std"]),
             _floats("model_coef", coef), _floats("model_intercept", ridge_arrays["intercept"])]

  def rocket(name):
    p = rockets[name]
    return (f"{{{len(p['dilations'])}, model_{name}_dilations, model_{name}_biases_per_dilation, "
            f"model_{name}_biases}}")

  body = "\n".join(tables)
  return f"""/* A MultiRocket-Hydra run ({hydra_count} Hydra + {rocket_count} MultiRocket features, a ridge over
 * {len(class_names)} classes), written by research/export/c/multirocket_hydra.py from its fitted arrays.
 * mrh_decision(&model, window, scratch, decision) classifies one (MODEL_LENGTH, MODEL_CHANNELS) window. */
#ifndef MODEL_H_
#define MODEL_H_

#include <stdint.h>

#include "multirocket_hydra_features.h"

#define MODEL_LENGTH {int(length)}
#define MODEL_CHANNELS {channels}
#define MODEL_CLASSES {len(class_names)}
#define MODEL_FEATURES {hydra_count + rocket_count}
#define MODEL_SCRATCH_FLOATS MRH_SCRATCH_FLOATS(MODEL_LENGTH, {int(kernels)})

static const char *const model_class_names[MODEL_CLASSES] = {{{names}}};

{body}

static const mrh_model model = {{
  MODEL_LENGTH, MODEL_CHANNELS, MODEL_CLASSES,
  {len(h['dilations'])}, {int(halves)}, {int(groups)}, {int(kernels)}, {int(h['channel_indices'].shape[-1])},
  model_hydra_dilations, model_hydra_weights, model_hydra_channels,
  {{{rocket('series')}, {rocket('difference')}}},
  model_combo_start, model_combo_channels,
  model_hydra_mean, model_hydra_std, model_rocket_mean, model_rocket_std,
  model_coef, model_intercept
}};

#endif /* MODEL_H_ */
"""


MAIN_C = """/* Example: classify windows on the command line.
 *   main WINDOWS.f32 [--features]      (or read the windows from stdin: main - )
 * WINDOWS.f32 holds consecutive windows of MODEL_LENGTH x MODEL_CHANNELS float32 values (numpy:
 * x.astype(np.float32).tofile(path) for x of shape (N, T, C)). Prints per window the class id, its
 * name and the decision scores, or with --features the raw features. */
#include <stdio.h>
#include <string.h>

#include "model.h"

int main(int argc, char **argv) {
  static float window[MODEL_LENGTH * MODEL_CHANNELS];
  static float scratch[MODEL_SCRATCH_FLOATS];
  static float features[MODEL_FEATURES]; /* only for --features */
  float decision[MODEL_CLASSES];
  int print_features = argc > 2 && strcmp(argv[2], "--features") == 0;
  FILE *in = stdin;
  if (argc > 1 && strcmp(argv[1], "-") != 0) in = fopen(argv[1], "rb");
  if (in == NULL) {
    fprintf(stderr, "cannot open %s\\n", argv[1]);
    return 1;
  }
  while (fread(window, sizeof(float), MODEL_LENGTH * MODEL_CHANNELS, in) ==
         (size_t)(MODEL_LENGTH * MODEL_CHANNELS)) {
    int i;
    if (print_features) {
      mrh_features(&model, window, scratch, features);
      for (i = 0; i < MODEL_FEATURES; ++i) printf(i ? " %.9g" : "%.9g", features[i]);
    } else {
      int best = mrh_decision(&model, window, scratch, decision);
      printf("%d %s", best, model_class_names[best]);
      for (i = 0; i < MODEL_CLASSES; ++i) printf(" %.9g", decision[i]);
    }
    printf("\\n");
  }
  if (in != stdin) fclose(in);
  return 0;
}
"""


def ram_bytes(params, length: int, classes: int) -> dict[str, int]:
  """Static RAM of classifying one window: the window, the scratch and the scores (float32 each).

  Counted from the sizes the C code declares (MRH_SCRATCH_FLOATS = 3 T + 3 K); the stack adds
  about 1.1 KB (a 256-float channel weight array and a kernel) that this does not count.
  """
  channels, kernels = int(params["hydra"]["num_channels"]), int(params["hydra"]["weights"].shape[3])
  window, scratch, scores = 4 * length * channels, 4 * (3 * length + 3 * kernels), 4 * classes
  return {"window": window, "scratch": scratch, "decision": scores, "ram_bytes": window + scratch + scores}


def write_c(params, ridge_arrays: dict, class_names: Sequence[str], length: int, out_dir) -> dict[str, Any]:
  """Writes model.h, the feature sources and main.c into out_dir.

  Returns {'files', 'features' (counts, classes, window shape), 'ram', and 'flash' (gcc -Os .text + .rodata of the model's
  tables and of the code) or 'flash_error' without gcc}.
  """
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / "model.h").write_text(model_header(params, ridge_arrays, class_names, length))
  for name in SOURCES:
    shutil.copyfile(build.c_sources() / name, out_dir / name)
  (out_dir / "main.c").write_text(MAIN_C)
  hydra_count, rocket_count = num_features(params)
  result: dict[str, Any] = {
      "files": ["model.h", *SOURCES, "main.c"],
      "features": {"hydra": hydra_count, "multirocket": rocket_count, "classes": len(class_names),
                "length": int(length), "channels": int(params["hydra"]["num_channels"])},
      "ram": ram_bytes(params, length, len(class_names)),
  }
  if build.compiler() is None:
    result["flash_error"] = "no C compiler (gcc) on the PATH"
    return result
  model_unit = ('#include "model.h"\n'
                "int model_entry(const float *w, float *s, float *d) { return mrh_decision(&model, w, s, d); }\n")
  code_unit = '#include "multirocket_hydra_features.c"\n'
  model, code = build.flash_size(model_unit, out_dir), build.flash_size(code_unit, out_dir)
  result["flash"] = {"model": model, "code": code, "flash_bytes": model["flash_bytes"] + code["flash_bytes"],
                     "compiler": "gcc -std=c99 -Os -c (host ISA; tables in .rodata are the same on any target)"}
  return result


def _harness(folder, windows, flag: list[str]) -> tuple[list[list[str]], float]:
  """The harness's printed rows and the seconds it ran (including its start)."""
  binary = build.compile_harness(folder, sources=("main.c", "multirocket_hydra_features.c"))
  start = time.perf_counter()
  rows = build.run_harness(binary, build.as_windows(windows), flag)
  return rows, time.perf_counter() - start


def predict_c(folder, windows) -> dict[str, Any]:
  """Compiles the harness in `folder` and classifies (N, T[, C]) windows.

  Returns {'label': (N,) class ids, 'decision': (N, classes) float32, 'seconds': the run's time}.
  """
  rows, seconds = _harness(folder, windows, [])
  return {"label": np.asarray([int(r[0]) for r in rows], np.int32),
          "decision": np.asarray([[float(v) for v in r[2:]] for r in rows], np.float32), "seconds": seconds}


def features_c(folder, windows) -> np.ndarray:
  """The raw features (N, F) float32 the C code computes, Python's order (Hydra, then MultiRocket)."""
  rows, _ = _harness(folder, windows, ["--features"])
  return np.asarray([[float(v) for v in r] for r in rows], np.float32)


def features_py(params, windows) -> np.ndarray:
  """The raw features (N, F) of research/heads/hydra.py and multirocket.py (what C must equal)."""
  x = build.as_windows(windows)
  return np.concatenate([np.asarray(hydra_lib.batched(params["hydra"])(x)),
                         np.asarray(multirocket_lib.batched(params["multirocket"])(x))], axis=1)


def count_steps(params, length: int) -> np.ndarray:
  """(F,) per feature: one count in its units (Hydra's hard counts and LSPV 1, PPV 1 / positions
  read), 0 for the features that are not counts (Hydra's soft counts, MPV, MIPV)."""
  h = params["hydra"]
  d, halves, groups, kernels, _ = h["weights"].shape
  per = groups * kernels
  hydra_steps = np.tile(np.concatenate([np.zeros(per), np.ones(per)]), d * halves)
  rocket_steps = []
  for difference, name in enumerate(multirocket_lib.REPRESENTATIONS):
    p, steps = params["multirocket"][name], length - difference
    reads = []
    for d_index, (dilation, count) in enumerate(zip(p["dilations"], p["num_features_per_dilation"])):
      half = (minirocket.KERNEL_LENGTH // 2) * int(dilation)
      n = np.where(minirocket.uses_valid_positions(d_index), steps - 2 * half, steps)
      reads.append(np.repeat(n, int(count)))
    n = np.concatenate(reads).astype(np.float64)
    rocket_steps += [1.0 / n, np.ones_like(n), np.zeros_like(n), np.zeros_like(n)]
  return np.concatenate([hydra_steps, *rocket_steps])


def feature_parity(got: np.ndarray, expected: np.ndarray, steps: np.ndarray) -> dict[str, Any]:
  """Largest difference, and the count features that differ by at least one count."""
  diff = np.abs(np.asarray(got, np.float64) - np.asarray(expected, np.float64))
  counts = steps > 0
  off = (diff >= 0.5 * np.where(counts, steps, np.inf)) & counts
  continuous = diff[:, ~counts]
  return {"max_abs_diff": float(diff.max()),
          "max_abs_diff_not_counts": float(continuous.max()) if continuous.size else 0.0,
          "count_values_off_by_a_count": int(off.sum()), "count_values": int(counts.sum() * len(diff)),
          "values": int(diff.size)}


def supports(run) -> bool:
  """Whether `run` is MultiRocket-Hydra features with the ridge head (what this module writes)."""
  return (run.model is None and getattr(run.feature_map, "kind", None) == "multirocket_hydra"
          and getattr(run.head, "kind", None) == "ridge")


def export_run(run, held: dict, out_dir, split_name: str = "test") -> dict[str, Any]:
  """Writes the run as C into out_dir and checks it against the run on `held`: the export.json record."""
  shape = list(run.meta["input_shape"])
  length = int(shape[0])
  params = run.feature_map.params
  result = write_c(params, run.head.arrays(), run.meta["class_names"], length, out_dir)
  record = {"exported": True, "format": FORMAT, "model": "MultiRocket-Hydra features + ridge", **result,
            "notes": ["The features are computed in C (research/export/c/__init__.py says why not TFLite).",
                      "ram_bytes: the window, the scratch and the scores, float32, as the C code declares "
                      "them; the stack adds ~1.1 KB; main.c's --features buffer is not counted.",
                      "seconds_per_series: the harness's wall time on this host (gcc -O2, its start "
                      "included) over the held-out series."]}
  if build.compiler() is None or not len(held["x"]):
    record["parity"] = {"checked": False, "reason": "no C compiler (gcc) on the PATH" if build.compiler() is None
                        else f"the {split_name} split is empty"}
    return record
  x = build.as_windows(held["x"])
  if x.shape[1:] != (length, result["features"]["channels"]):
    raise ValueError(f"The {split_name} series are {x.shape[1:]} (frames, channels); the C program reads "
                     f"{(length, result['features']['channels'])} (the run's input_shape).")
  got = predict_c(out_dir, x)
  decision = run.head.decision(run.features(held))
  expected_label = decision.argmax(1)
  features = feature_parity(features_c(out_dir, x), features_py(params, x), count_steps(params, length))
  record["parity"] = {"checked": True, "split": split_name, "examples": int(len(x)),
                      "class_agreement": float(np.mean(got["label"] == expected_label)),
                      "max_abs_decision_diff": float(np.abs(got["decision"] - decision).max()),
                      "features": features}
  record["seconds_per_series"] = got["seconds"] / len(x)
  return record


def report(record: dict[str, Any], workdir) -> tuple[str, list[str]]:
  """(summary text, failed checks) of export_run's record."""
  sizes, ram = record["features"], record["ram"]
  lines = [f"{record['model']}: {sizes['hydra']} Hydra + {sizes['multirocket']} MultiRocket "
           f"features, {sizes['classes']} classes -> {', '.join(record['files'])} ({record['format']})",
           f"RAM: {ram['ram_bytes']:,} bytes static (window {ram['window']:,} + scratch {ram['scratch']:,} "
           f"+ scores {ram['decision']:,})"]
  flash = record.get("flash")
  if flash:
    lines.append(f"flash: {flash['flash_bytes']:,} bytes (tables {flash['model']['flash_bytes']:,} + code "
                 f"{flash['code']['flash_bytes']:,})")
  errors = []
  parity = record["parity"]
  if not parity["checked"]:
    lines.append(f"not checked: {parity['reason']}")
  else:
    f = parity["features"]
    lines.append(f"C vs the run on {parity['examples']} {parity['split']} series: class agreement "
                 f"{parity['class_agreement']:.3f}, max decision difference {parity['max_abs_decision_diff']:.2e}, "
                 f"{f['count_values_off_by_a_count']} of {f['count_values']:,} count features off by a count, "
                 f"max feature difference {f['max_abs_diff']:.2e}; "
                 f"{1e3 * record['seconds_per_series']:.2f} ms per series")
    if parity["class_agreement"] != 1.0:
      errors.append(f"the C program's classes agree with the run's on {parity['class_agreement']:.3f} "
                    "of the series, not all")
  lines.append(f"Wrote {workdir}/model.h, main.c and the feature sources, export.json")
  return "\n".join(lines), errors

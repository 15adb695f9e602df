"""The sEMG window features of research/heads/features.py as C, configured as a model was trained.

  model_features.h   the feature configuration (names, threshold, sampling rate, window shape)
                     and features_extract() over one window (not "features.h": glibc has one)
  semg_features.h/.c the features themselves (this folder; features.py's definitions)
  main.c             an example: reads float32 windows, prints the features (or, beside a
                     forest's model.h, the class and probabilities)
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile
from typing import Sequence

import numpy as np

from research.export.c import build
from research.heads import features as features_lib

FEATURE_SOURCES = ("semg_features.h", "semg_features.c")
FEATURE_ENUM = {name: f"SEMG_{name.upper()}" for name in features_lib.FEATURES}
SPECTRAL = ("mnf", "mdf")


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
static const float features_threshold = {build.float_literal(threshold)}; /* {threshold!r} */
static const float features_sampling_rate = {build.float_literal(sampling_rate)}; /* {sampling_rate!r} Hz */
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
    shutil.copyfile(build.c_sources() / name, out_dir / name)
  (out_dir / "main.c").write_text(main_source(with_model=with_model))
  return ["model_features.h", *FEATURE_SOURCES, "main.c"]


def features_c(windows, feature_names: Sequence[str], threshold: float = 0.0,
               sampling_rate: float = 1000.0, folder=None) -> np.ndarray:
  """features.extract computed by the C sources (compiled here with gcc): (N, len(names) * C) float32."""
  x = build.as_windows(windows)
  with tempfile.TemporaryDirectory() as tmp:
    folder = pathlib.Path(folder or tmp)
    write_features_c(feature_names, threshold, sampling_rate, x.shape[2], x.shape[1], folder)
    rows = build.run_harness(build.compile_harness(folder), x, [])
  return np.asarray([[float(v) for v in r] for r in rows], np.float32)

"""Exports a trained workdir to TFLite and checks the .tflite against JAX.

  python launch/export.py --workdir DIR [--quantize none|dynamic|float16|int8]
                          [--int8_io] [--dynamic_batch] [--parity_examples 256]
                          [--target litert|micro] [--notflm] [--tflm_examples 64]

Writes DIR/model.tflite, DIR/labels.json and DIR/export.json (input shape and
layout, output meaning, quantization, ops, sizes, parity, latency; per model the
TFLite Micro check: ops against TFLM's, smallest tensor arena, parity under the
TFLM interpreter) and prints the table. `--quantize none,int8` converts several
modes: the first is model.tflite, the others model.<mode>.tflite. `--target micro`
exports for microcontrollers (research/export/rewrite.py's micro profile: scans
unrolled, selects as SELECT_V2, small attention products as MUL + SUM, batch 1;
modes none and int8) and fails when TFLM cannot run the model. Runs with no TFLite
form that a C back end covers (QUANT with its extra trees; a Random Forest on
hand-made features) are written as C instead (model.h, main.c, the feature
sources), compiled with gcc and checked against the run. The work and the printed summary are
research.export.pipeline.export's. Exits 1 when fp32 parity (LiteRT or TFLM) misses
1e-5, when the C program disagrees with the run, or when the model cannot be exported
(ops without a TFLite builtin; with --target micro, ops TFLM does not register).

The export is written into a staging folder in DIR and moved into place whole,
export.json last: Ctrl-C or SIGTERM leaves the previous export unchanged and exits
128 + the signal's number (130 for Ctrl-C); an error while writing (disk full, a
read-only DIR) is one line naming the path and the cause, exit 1, and changes nothing.
"""

from __future__ import annotations

import sys

from absl import flags, logging

from research import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained run's folder.", required=True)
_QUANTIZE = flags.DEFINE_list("quantize", ["none"], "none | dynamic | float16 | int8 (comma list).")
_INT8_IO = flags.DEFINE_bool("int8_io", False, "int8 input and output tensors (with --quantize int8).")
_DYNAMIC_BATCH = flags.DEFINE_bool("dynamic_batch", False, "Symbolic batch dimension (not with int8).")
_PARITY = flags.DEFINE_integer("parity_examples", 256, "Held-out examples for the parity check.")
_CALIBRATION = flags.DEFINE_integer("calibration_examples", 200, "Training examples to calibrate int8.")
_SPLIT = flags.DEFINE_enum("split", "test", ["train", "val", "test"], "Held-out split for parity.")
_TARGET = flags.DEFINE_enum("target", "litert", ["litert", "micro"],
                            "litert: phones/desktops; micro: TFLite Micro on microcontrollers.")
_TFLM = flags.DEFINE_bool("tflm", True, "Run every model under the TFLite Micro interpreter too "
                          "(op check, smallest arena, parity; needs tflite-micro).")
_TFLM_EXAMPLES = flags.DEFINE_integer("tflm_examples", 64, "Parity examples run under TFLite Micro.")


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from research.export import staging
  try:
    with staging.Export(_WORKDIR.value):  # a signal while the libraries load interrupts the export too
      from research.export import pipeline
    return _export(pipeline)
  except staging.ExportInterrupted as error:  # not research.cli's KeyboardInterrupt, which speaks of checkpoints
    print(error, file=sys.stderr)
    return 128 + error.signal_number


def _export(pipeline) -> int:
  from research.errors import ResearchError
  from research.export.tflite import ops
  try:
    outcome = pipeline.export(
        _WORKDIR.value, modes=tuple(_QUANTIZE.value), dynamic_batch=_DYNAMIC_BATCH.value,
        int8_io=_INT8_IO.value, parity_examples=_PARITY.value,
        calibration_examples=_CALIBRATION.value, split_name=_SPLIT.value, target=_TARGET.value,
        tflm=_TFLM.value, tflm_examples=_TFLM_EXAMPLES.value)
  except pipeline.NotExportableError as error:
    print(f"not exported: {error}", file=sys.stderr)
    return 1
  except (ResearchError, ops.UnsupportedOpsError, ValueError, OSError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  print(outcome.text)
  for error in outcome.errors:
    print(f"error: {error}", file=sys.stderr)
  return outcome.exit_code


if __name__ == "__main__":
  cli.run(main)

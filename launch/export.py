"""Exports a trained workdir to TFLite and checks the .tflite against JAX.

  python launch/export.py --workdir DIR [--quantize none|dynamic|float16|int8]
                          [--int8_io] [--dynamic_batch] [--parity_examples 256]
                          [--target litert|micro] [--notflm] [--tflm_examples 64]

Writes DIR/model.tflite, DIR/labels.json and DIR/export.json (input shape and
layout, output meaning, quantization, ops, sizes, parity, latency; per model the
TFLite Micro check: ops against TFLM's, smallest tensor arena, parity under the
TFLM interpreter) and prints the table. `--quantize none,int8` converts several
modes: the first is model.tflite, the others model.<mode>.tflite. `--target micro`
exports for microcontrollers (research/export/micro_graph.py: scans unrolled,
selects as SELECT_V2, small attention products as MUL + SUM, batch 1; modes none
and int8) and fails when TFLM cannot run the model. Exits 1 when fp32 parity (LiteRT or TFLM) misses 1e-5,
or when the model cannot be exported (the Random Forest; ops without a TFLite
builtin; with --target micro, ops TFLM does not register).
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


def _report_c(result) -> int:
  forest, parity = result["forest"], result["parity"]
  flash = result.get("flash")
  print(f"{result['model']}: {forest['trees']} trees, {forest['decision_nodes']} decision nodes -> "
        f"{', '.join(result['files'])} ({result['format']})")
  if flash:
    print(f"flash: model {flash['model']['flash_bytes']:,} bytes + features {flash['features']['flash_bytes']:,} bytes")
  if not parity["checked"]:
    print(f"not checked: {parity['reason']}")
    return 0
  print(f"C vs the run on {parity['examples']} {parity['split']} windows: class agreement "
        f"{parity['class_agreement']:.3f}, max probability difference {parity['max_abs_prob_diff']:.2e}")
  print(f"Wrote {_WORKDIR.value}/model.h, main.c and the feature sources, export.json")
  return 0 if parity["class_agreement"] == 1.0 else 1


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  from research.errors import ResearchError
  from research.export import ops, pipeline, tflite

  bad = [mode for mode in _QUANTIZE.value if mode not in tflite.QUANTIZE_MODES]
  if bad:
    print(f"error: --quantize {bad} unknown; choose from {tflite.QUANTIZE_MODES}", file=sys.stderr)
    return 1
  try:
    result = pipeline.export_workdir(
        _WORKDIR.value, modes=tuple(_QUANTIZE.value), dynamic_batch=_DYNAMIC_BATCH.value,
        int8_io=_INT8_IO.value, parity_examples=_PARITY.value,
        calibration_examples=_CALIBRATION.value, split_name=_SPLIT.value, target=_TARGET.value,
        tflm=_TFLM.value, tflm_examples=_TFLM_EXAMPLES.value)
  except pipeline.NotExportableError as error:
    print(f"not exported: {error}", file=sys.stderr)
    return 1
  except (ResearchError, ops.UnsupportedOpsError, ValueError, FileNotFoundError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  if "exports" not in result:  # written as C for a microcontroller
    return _report_c(result)
  print(f"{result['model']} ({result['task']}), input {result['input']['shape']}, "
        f"parity on {result['parity_examples']} {result['parity_split']} examples:")
  print(pipeline.table(result))
  for note in result["notes"]:
    print(f"note: {note}")
  failed = [row for row in result["exports"] if row.get("fp32_within_tolerance") is False]
  for row in failed:
    print(f"error: fp32 parity {row['fp32_max_abs_diff']:.2e} exceeds {result['fp32_tolerance']:.0e}",
          file=sys.stderr)
  tflm_failed = [row for row in result["exports"] if row.get("tflm", {}).get("fp32_within_tolerance") is False]
  for row in tflm_failed:
    print(f"error: TFLM fp32 parity {row['tflm']['fp32_max_abs_diff']:.2e} exceeds "
          f"{result['fp32_tolerance']:.0e}", file=sys.stderr)
  for row in result["exports"]:
    if row.get("tflm") and not row["tflm"]["runs"]:
      print(f"note: {row['mode']} does not run under TFLite Micro: {row['tflm']['reason']}")
  failed += tflm_failed
  print(f"Wrote {_WORKDIR.value}/model.tflite, labels.json, export.json")
  return 1 if failed else 0


if __name__ == "__main__":
  cli.run(main)

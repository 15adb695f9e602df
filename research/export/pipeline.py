"""A trained workdir -> its export beside it, and the text that reports it.

`export(workdir, ...)` is the one call behind launch/export.py: it reads the run back,
writes the export with the back end the run has a form for, and returns an `Outcome`
(export.json's record, the summary text, the checks that failed):

  TFLite   model.tflite (model.<mode>.tflite for further modes), labels.json: every run
           whose inference path is one JAX function (tflite/exportable.py)
  C        model.h, model_features.h, the feature sources, main.c: a run one of C_BACK_ENDS
           supports (a tree ensemble on hand-made features, c/forest.py; QUANT and its trees,
           c/quant.py; MultiRocket-Hydra and its ridge, c/multirocket_hydra.py)

Any other run gets an export.json that says why it has no export, and NotExportableError.

Every file is written into a staging folder first and moved into place together, export.json
last (staging.py): an interrupted or failed export leaves the previous export, whole.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from research import workdir as workdir_lib
from research.export import staging
from research.export.c import forest as forest_c
from research.export.c import multirocket_hydra as multirocket_hydra_c
from research.export.c import quant as quant_c
from research.export.tflite import converter
from research.export.tflite.exportable import Exportable, continuous_max_abs_diff, export_exportable
from research.train import trained as run_lib
from research.train.trained import NotExportableError, load_run

# The C back ends, tried in order on a run with no TFLite form: modules offering supports(run),
# export_run(run, held, folder, split_name) -> export.json's record and report(record, workdir)
# -> (summary text, failed checks). The most specific first: forest_c takes a Random Forest on
# any feature map.
C_BACK_ENDS = (quant_c, multirocket_hydra_c, forest_c)


@dataclasses.dataclass
class Outcome:
  """What an export wrote and how it went."""
  record: dict[str, Any]  # export.json
  text: str  # the summary: sizes, parity, latency, notes, files written
  errors: list[str]  # failed checks (fp32 parity beyond tolerance, C disagreeing with the run)

  @property
  def exit_code(self) -> int:
    return 1 if self.errors else 0


def load_exportable(workdir) -> Exportable:
  """Reads a trained workdir back as an inference function of x alone (the run's `inference_fn`)."""
  run = load_run(workdir)
  fn, notes = run.inference_fn()
  stats = run.meta.get("standardize")
  to_input = None
  if stats:
    # The live input is raw features: the training split's statistics go inside the graph.
    mean, std = np.asarray(stats["mean"], np.float32), np.asarray(stats["std"], np.float32)
    notes.append(f"Input is raw features: the {stats.get('mode', 'zscore')} standardization of "
                 "meta['standardize'] (training split) is applied inside the model.")
    normalized = fn
    fn = lambda x: normalized((x - mean) / std)
    to_input = lambda x: x * std + mean
  meta = {**run.meta, "model": run_lib.name(run.config)}
  variables = {"network": run.variables, "head": run.head.objects() if run.head is not None else None}
  return Exportable(fn=fn, variables=variables, meta=meta, config=run.config, notes=notes, to_input=to_input,
                    refused_modes=dict(getattr(run.feature_map, "refused_modes", {})),
                    judged_by_agreement=bool(getattr(run.feature_map, "threshold_counts", False)))


def export(workdir, *, modes=("none",), split_name: str = "test", **options) -> Outcome:
  """Exports the run in `workdir` (best weights, head/final) beside it.

  modes, split_name and options as tflite.exportable.export_exportable (a C export uses
  split_name only). Raises NotExportableError for a run with no export form (its
  export.json says why) and ValueError for an unknown quantization mode. The export
  replaces the previous one whole or not at all: SIGINT/SIGTERM raise
  staging.ExportInterrupted, an OSError while writing staging.ExportWriteError, and
  either leaves the previous export as it was.
  """
  unknown = [mode for mode in modes if mode not in converter.QUANTIZE_MODES]
  if unknown:
    raise ValueError(f"quantization modes {unknown} unknown; choose from {converter.QUANTIZE_MODES}")
  with staging.Export(workdir) as export:
    return _export(export, modes, split_name, options)


def _export(export: staging.Export, modes, split_name: str, options) -> Outcome:
  workdir = export.workdir
  from research.data import load_dataset
  try:
    exportable = load_exportable(workdir)
  except NotExportableError as error:
    run = load_run(workdir)
    back_end = next((back_end for back_end in C_BACK_ENDS if back_end.supports(run)), None)
    if back_end is None:
      with export.staged() as folder:
        workdir_lib.write_json_atomic(folder / "export.json", {"exported": False, "reason": str(error)})
      raise
    held = load_dataset(run.config).split(split_name)
    with export.staged() as folder:
      record = back_end.export_run(run, held, folder, split_name)
      workdir_lib.write_json_atomic(folder / "export.json", record)
    return Outcome(record, *back_end.report(record, workdir))
  dataset = load_dataset(exportable.config)
  with export.staged() as folder:
    record = export_exportable(exportable, dataset, folder, modes=tuple(modes), split_name=split_name, **options)
  return Outcome(record, *_tflite_report(record, workdir))


def _tflite_report(record: dict[str, Any], workdir) -> tuple[str, list[str]]:
  lines = [f"{record['model']} ({record['task']}), input {record['input']['shape']}, "
           f"parity on {record['parity_examples']} {record['parity_split']} examples:", table(record)]
  lines += [f"note: {note}" for note in record["notes"]]
  errors = []
  tolerance = f"{record['fp32_tolerance']:.0e}"
  by_agreement = record.get("fp32_judged_by") == "class agreement"
  if by_agreement:
    lines.append("note: fp32 parity is judged by the classes: the features count comparisons with thresholds, "
                 "so a float32 rounding at a threshold moves a count (max abs diff shown for reference)")
  failed = (lambda diff: "the classes differ from JAX's on some examples") if by_agreement else (
      lambda diff: f"{diff:.2e} exceeds {tolerance}")
  for row in record["exports"]:
    if row.get("fp32_within_tolerance") is False:
      errors.append(f"fp32 parity: {failed(row['fp32_max_abs_diff'])}")
    tflm = row.get("tflm") or {}
    if tflm.get("fp32_within_tolerance") is False:
      errors.append(f"TFLM fp32 parity: {failed(tflm['fp32_max_abs_diff'])}")
    if tflm and not tflm["runs"]:
      lines.append(f"note: {row['mode']} does not run under TFLite Micro: {tflm['reason']}")
  lines.append(f"Wrote {workdir}/model.tflite, labels.json, export.json")
  return "\n".join(lines), errors


def table(result: dict[str, Any]) -> str:
  """A Markdown table of sizes, parity and latency per mode."""
  lines = ["| mode | param bytes | tflite bytes | ratio | max abs diff* | agreement | accuracy change | "
           "latency ms/example | TFLM arena bytes | TFLM max abs diff* |", "|---|---|---|---|---|---|---|---|---|---|"]
  for row in result["exports"]:
    diff = continuous_max_abs_diff(row["parity"])
    agree = ", ".join(f"{k} {r['agreement']:.3f}" for k, r in row["parity"].items() if "agreement" in r) or "-"
    change = ", ".join(f"{k} {r['accuracy_change']:+.3f}" for k, r in row["parity"].items()
                       if "accuracy_change" in r)
    change += ", ".join(f"{k} mse {r['mse_change']:+.2e}" for k, r in row["parity"].items() if "mse_change" in r)
    tflm = row.get("tflm")
    if tflm is None:
      arena, tflm_diff = "-", "-"
    elif tflm["runs"]:
      arena, tflm_diff = f"{tflm['arena_bytes']:,}", f"{continuous_max_abs_diff(tflm['parity']):.2e}"
    else:
      arena, tflm_diff = "does not run", "-"
    lines.append(f"| {row['mode']} | {row['param_bytes']:,} | {row['tflite_bytes']:,} | {row['size_ratio']:.2f} | "
                 f"{diff:.2e} | {agree} | {change or '-'} | {row['latency_ms_per_example']:.3f} | {arena} | {tflm_diff} |")
  lines.append("* over the continuous outputs (vote counts are judged by agreement)")
  return "\n".join(lines)

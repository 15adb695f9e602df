"""A trained run's inference function -> model.tflite per quantization mode, parity, export.json.

The exported function is the run's inference path: `task.predict(model.apply(
variables, x, train=False))` with parameters closed over, so the .tflite outputs
what reports use (class probabilities, per-frame probabilities, values). Masks are
not inputs: the export takes full windows (every frame valid), as a live stream
delivers them. The JAX reference for parity is the same function, jitted.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Callable

import jax
import numpy as np

from research import workdir as workdir_lib
from research.export import tflm as tflm_lib
from research.export.tflite import converter
from research.export.tflite import parity as parity_lib
from research.train.trained import NotExportableError

# What each task.predict output means, and how parity judges it.
OUTPUTS = {
    "probs": ("classes", "y", "class probabilities over labels.json class_names (softmax; Platt for the "
              "SVM); argmax = predicted class"),
    "seg_prob": ("binary", "seg", "per-frame probability of a repetition start (> 0.5 = start)"),
    "value": ("value", "y", "regression output per frame, in the units of the training targets"),
    "votes": ("classes", "y", "one-vs-one SVM votes per class (labels.json order); argmax = predicted class"),
    "decision": ("value", None, "one-vs-one SVM decision values, pairs (0,1), (0,2), ..., (1,2), ..."),
}


# Outputs with integer values (vote counts): judged by agreement, left out of the fp32 difference.
DISCRETE = ("votes",)


def continuous_max_abs_diff(parity: dict[str, dict]) -> float:
  """The largest max_abs_diff over the outputs that are not vote counts."""
  values = [row["max_abs_diff"] for key, row in parity.items() if key not in DISCRETE]
  return max(values) if values else 0.0


@dataclasses.dataclass
class Exportable:
  """What the export needs from a trained run."""
  fn: Callable  # x_B... -> {name: array}
  variables: Any  # every stored parameter/statistic (for the parameter byte count)
  meta: dict[str, Any]
  config: Any
  notes: list[str]
  # Dataset x -> the exported input (e.g. undoing a standardization the graph now applies).
  to_input: Callable | None = None
  refused_modes: dict[str, str] = dataclasses.field(default_factory=dict)  # quantize mode -> why not
  # Features that count comparisons with thresholds (MiniRocket's PPV): a float32 rounding at a
  # threshold moves a count by one, so fp32 parity is judged by the classes agreeing on every example.
  judged_by_agreement: bool = False


def within_tolerance(parity: dict[str, dict], judged_by_agreement: bool) -> bool:
  """fp32 parity: every class agrees (threshold-count features) or every value within FP32_TOLERANCE."""
  agreements = [row["agreement"] for row in parity.values() if "agreement" in row]
  if judged_by_agreement and agreements:
    return min(agreements) == 1.0
  return continuous_max_abs_diff(parity) <= parity_lib.FP32_TOLERANCE


def _reference(fn, x: np.ndarray, batch_size: int = 64) -> dict[str, np.ndarray]:
  jitted = jax.jit(fn)
  parts = [jax.device_get(jitted(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
  return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _select(n: int, count: int, seed: int) -> np.ndarray:
  if n <= count:
    return np.arange(n)
  return np.sort(np.random.default_rng(seed).choice(n, count, replace=False))


def export_exportable(exportable: Exportable, dataset, out_dir, *, modes=("none",),
                      dynamic_batch: bool = False, int8_io: bool = False, parity_examples: int = 256,
                      calibration_examples: int = 200, latency_repeats: int = 30,
                      split_name: str = "test", seed: int = 0, target: str = "litert",
                      tflm: bool = True, tflm_examples: int = 64) -> dict[str, Any]:
  """Converts for every mode, checks parity on `split_name`, writes files into out_dir.

  The first mode is written as model.tflite, the others as model.<mode>.tflite.
  target: litert (phones, desktops) or micro (TFLite Micro; see converter.py).
  tflm: also run every model under the TFLite Micro interpreter (row['tflm']: op
  check, smallest arena, parity on the first `tflm_examples` parity examples: TFLM's
  reference kernels are slow on large convolutions). With target='micro' a model TFLM
  cannot run fails the export (MicroUnsupportedOpsError); with 'litert' the row says why.
  Returns the export.json dict.
  """
  out_dir = pathlib.Path(out_dir)
  meta = exportable.meta
  refused = [m for m in modes if m in exportable.refused_modes]
  if refused:
    allowed = [m for m in converter.QUANTIZE_MODES if m not in exportable.refused_modes]
    raise NotExportableError(f"quantize={refused[0]} is refused for this model: "
                             f"{exportable.refused_modes[refused[0]]}; use --quantize with one of {allowed}")
  held = dataset.split(split_name)
  y = np.asarray(held["y"])
  if len(held["x"]) == 0 or (y.dtype.kind in "iu" and (y < 0).all()):  # empty, or held-out files without labels
    split_name, held = "val", dataset.val
  pick = _select(len(held["x"]), parity_examples, seed)
  to_input = exportable.to_input or (lambda x: x)
  x_held = np.asarray(to_input(np.asarray(held["x"][pick], np.float32)), np.float32)
  calibration = np.asarray(to_input(np.asarray(
      dataset.train["x"][_select(len(dataset.train["x"]), calibration_examples, seed + 1)], np.float32)), np.float32)
  reference = _reference(exportable.fn, x_held)
  unknown = sorted(set(reference) - set(OUTPUTS))
  if unknown:
    raise ValueError(f"Outputs {unknown} of the exported function have no entry in "
                     f"research/export/tflite/exportable.py OUTPUTS; add their kind and meaning there.")
  kinds = {key: OUTPUTS[key][0] for key in reference}
  targets = {}
  for key in reference:
    target_key = OUTPUTS[key][1]
    if target_key in held and (kinds[key] != "value" or np.size(held[target_key][pick]) == reference[key].size):
      targets[key] = held[target_key][pick]
  param_bytes = parity_lib.param_bytes(exportable.variables)
  padded = int((~np.asarray(held["mask"][pick], bool)).any(-1).sum()) if "mask" in held else 0

  exports = []
  name = meta.get("model") or (exportable.config.model.name if exportable.config is not None else "model")
  for number, mode in enumerate(modes):
    exported = converter.convert(exportable.fn, x_held[:1], quantize=mode, representative=calibration,
                                  int8_io=int8_io and mode == "int8",
                                  dynamic_batch=dynamic_batch and mode != "int8",
                                  where=f"{name} ({mode})", target=target)
    file = "model.tflite" if number == 0 else f"model.{mode}.tflite"
    (out_dir / file).write_bytes(exported.model)  # pipeline.export stages the folder (staging.py)
    summary = exported.summary()
    got = parity_lib.run(exported.model, summary, x_held)
    compared = parity_lib.compare(reference, got, kinds, targets)
    latency = parity_lib.latency_per_example(exported.model, summary, x_held[0], repeats=latency_repeats)
    row = {"mode": mode, "file": file, **summary, "param_bytes": param_bytes,
           "size_ratio": len(exported.model) / max(param_bytes, 1), "parity": compared,
           "latency_ms_per_example": latency * 1e3}
    if mode == "none":
      row["fp32_max_abs_diff"] = continuous_max_abs_diff(compared)
      row["fp32_within_tolerance"] = within_tolerance(compared, exportable.judged_by_agreement)
    if tflm or target == "micro":
      first = lambda arrays: {key: value[:tflm_examples] for key, value in arrays.items()}
      row["tflm"] = _tflm_row(exported.model, summary, x_held[:tflm_examples], first(reference), kinds,
                              first(targets), first(got), mode, fail=target == "micro", where=f"{name} ({mode})",
                              judged_by_agreement=exportable.judged_by_agreement)
    exports.append(row)

  class_names = list(meta.get("class_names") or [])
  outputs = {key: OUTPUTS[key][2] for key in reference}
  result = {
      "exported": True, "model": name, "target": target,
      "task": exportable.config.task.name if exportable.config is not None else meta.get("task"),
      "input": {"shape": exports[0]["input"]["shape"], "dtype": exports[0]["input"]["dtype"],
                "layout": meta.get("feature_layout"), "sampling_rate": meta.get("sampling_rate"),
                "note": "full windows; no mask input (every frame valid)"},
      "outputs": outputs, "class_names": class_names, "param_bytes": param_bytes,
      "parity_split": split_name, "parity_examples": int(len(x_held)), "parity_examples_with_padding": padded,
      "calibration_examples": int(len(calibration)), "fp32_tolerance": parity_lib.FP32_TOLERANCE,
      "fp32_judged_by": "class agreement" if exportable.judged_by_agreement else "max abs diff",
      "notes": exportable.notes, "exports": exports,
  }
  # The same labels.json the classification report writes (index = class id).
  workdir_lib.write_json_atomic(out_dir / "labels.json", {"class_names": class_names})
  workdir_lib.write_json_atomic(out_dir / "export.json", result)
  return result


def _tflm_row(model: bytes, summary, x_held, reference, kinds, targets, litert, mode: str, *,
              fail: bool, where: str, judged_by_agreement: bool = False) -> dict[str, Any]:
  """export.json's 'tflm' entry for one model; raises when `fail` and TFLM cannot run it."""
  row = tflm_lib.check(model, summary, x_held, reference, kinds, targets, litert=litert)
  row["examples"] = int(len(x_held))
  if row["runs"] and mode == "none":
    row["fp32_max_abs_diff"] = continuous_max_abs_diff(row["parity"])
    row["fp32_within_tolerance"] = within_tolerance(row["parity"], judged_by_agreement)
  if fail and not row["runs"] and tflm_lib.available():
    raise tflm_lib.MicroUnsupportedOpsError(f"{where} does not run under TFLite Micro: {row['reason']}")
  return row

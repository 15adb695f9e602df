"""Sizes, parity, latency and TFLite Micro arena of the TFLite export at each model's full (seed) size.

  python benchmarks/export_sizes.py [--families lstm_filter,sign_lstm,maxcrnn,tcn,cnn_svm,random_forest]
                                    [--modes none,dynamic,float16,int8] [--targets litert,micro]
                                    [--no-int8_io] [--out rows.json]

Models are randomly initialised at their full configs (parameter counts do not
depend on training), so the numbers are sizes, fp32 parity and per-example
latency; quantized agreement here is on random inputs calibrated on random
inputs, not an accuracy (launch/export.py on a trained workdir gives that).
The CNN-SVM stands in for the HHT system: research.models.cnn.HHTEncoder (Conv 64/128/256,
stride 2, instance norm, LeakyReLU, global average pooling) on 256x256 images
and an RBF SVC (C=10) fitted on 96 random feature vectors of 6 classes.
Every model is also run under the TFLite Micro interpreter (research/export/tflm.py):
ops checked against TFLM's, the smallest tensor arena (bisection, 16-byte steps) and
parity with JAX. Targets: litert is the phone profile, micro the microcontroller one
(research/export/rewrite.py's micro profile; modes none and int8 only). int8 has int8 input and
output tensors unless --no-int8_io, as a microcontroller would feed it.
The Random Forest (family random_forest) is fitted at configs/random_forest.py (grid
search included) on its default data and written as C (research/export/c/):
its row gives the compiled flash of the forest and of the features (gcc -Os on this
host), the RAM the features need, and the C harness's agreement with scikit-learn on
the test split.
Takes a few minutes on a 2-core CPU per target (the unrolled int8 LSTMs take longest).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import jax
import numpy as np

from research import config_file

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Input shape per example and class count at the full configs' data.
FAMILIES = {
    "lstm_filter": ((50, 5), 0),
    "sign_lstm": ((30, 1662), 10),
    "maxcrnn": ((3000, 1), 4),
    "tcn": ((30, 25), 5),
    "cnn_svm": ((256, 256, 1), 6),
}


def _config(name):
  return config_file.load(ROOT / "configs" / f"{name}.py")


def exportable(name, rng):
  from research.export.tflite import exportable as exportable_lib
  shape, classes = FAMILIES[name]
  meta = {"class_names": [f"c{i}" for i in range(classes)], "input_shape": list(shape)}
  x = rng.normal(size=(8,) + shape).astype(np.float32)
  if name == "cnn_svm":
    from research.heads.svm import SVMHead
    from research.models.cnn import HHTEncoder
    encoder = HHTEncoder()
    variables = encoder.init(jax.random.PRNGKey(0), x[:1])
    features = rng.normal(size=(96, 256)).astype(np.float32)
    y = np.arange(96) % classes
    features += np.eye(classes, 256, dtype=np.float32)[y] * 3.0
    head_fn = SVMHead(num_classes=classes).fit(features, y).jax_fn()
    fn = lambda x: head_fn(encoder.apply(variables, x, train=False))
    return exportable_lib.Exportable(fn=fn, variables=variables, meta=meta, config=None, notes=[]), x
  from research.models import build_model
  from research.tasks import build_task
  config = _config(name)
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  variables = model.init(jax.random.PRNGKey(0), x[:2], train=False)
  fn = lambda x: task.predict(model.apply(variables, x, train=False))
  return exportable_lib.Exportable(fn=fn, variables=variables, meta=meta, config=config, notes=[]), x


def forest_row() -> dict:
  """Trains the default Random Forest run, exports it as C, measures flash and checks the harness."""
  import tempfile
  from research.data import load_dataset
  from research.export import pipeline
  from research.export.c import features as features_c
  from research.train import fit, load_run
  started = time.perf_counter()
  config = _config("random_forest")
  dataset = load_dataset(config)
  x = np.asarray(dataset.test["x"], np.float32)
  x = x[:, :, None] if x.ndim == 2 else x
  names = config.features.names
  with tempfile.TemporaryDirectory() as folder:
    fit(config, dataset, folder)
    record = pipeline.export(folder).record
    best = load_run(folder).head.fit_info.get("best_params")
  spectral = any(n in features_c.SPECTRAL for n in names)
  row = {"family": "random_forest", "target": "c", "mode": "float32", "forest": record["forest"],
         "best_params": best, "flash": record.get("flash"),
         "ram_bytes": {"window": 4 * x.shape[1] * x.shape[2],
                       "features_work": 4 * (3 * x.shape[1] + 4) if spectral else 4,
                       "features_and_probs": 4 * (len(names) * x.shape[2] + len(dataset.meta["class_names"]))},
         "test_windows": int(len(x)), "seconds": None}
  if record["parity"]["checked"]:
    row["c_agreement"] = record["parity"]["class_agreement"]
    row["c_max_prob_diff"] = record["parity"]["max_abs_prob_diff"]
  row["seconds"] = time.perf_counter() - started
  return row


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--families", default=",".join(FAMILIES) + ",random_forest")
  parser.add_argument("--modes", default="none,dynamic,float16,int8")
  parser.add_argument("--targets", default="litert,micro")
  parser.add_argument("--int8_io", action=argparse.BooleanOptionalAction, default=True)
  parser.add_argument("--out", default="")
  args = parser.parse_args()
  from research.export import tflm
  from research.export.tflite import converter as tflite
  from research.export.tflite import exportable as exportable_lib
  from research.export.tflite import ops, parity
  rows = []
  for name in args.families.split(","):
    if name == "random_forest":
      rows.append(forest_row())
      print(json.dumps(rows[-1]), flush=True)
      continue
    rng = np.random.default_rng(0)
    item, x = exportable(name, rng)
    reference = exportable_lib._reference(item.fn, x)
    kinds = {key: exportable_lib.OUTPUTS[key][0] for key in reference}
    for target in args.targets.split(","):
      for mode in args.modes.split(","):
        if target == "micro" and mode not in tflite.MICRO_MODES:
          continue
        started = time.perf_counter()
        row = {"family": name, "target": target, "mode": mode, "param_bytes": parity.param_bytes(item.variables)}
        try:
          exported = tflite.convert(item.fn, x, quantize=mode, representative=x, target=target,
                                    int8_io=args.int8_io and mode == "int8", where=f"{name} ({target}, {mode})")
        except ops.UnsupportedOpsError as error:
          row.update({"error": str(error).splitlines()[0], "seconds": time.perf_counter() - started})
          rows.append(row)
          print(json.dumps(row), flush=True)
          continue
        summary = exported.summary()
        got = parity.run(exported.model, summary, x)
        compared = parity.compare(reference, got, kinds)
        tflm = tflm.check(exported.model, summary, x, reference, kinds, litert=got)
        row.update({
            "tflite_bytes": len(exported.model), "unrolled": exported.unrolled, "ops": exported.ops,
            "rewrites": summary.get("rewrites", {}),
            "max_abs_diff": exportable_lib.continuous_max_abs_diff(compared),
            "agreement": {k: r["agreement"] for k, r in compared.items() if "agreement" in r},
            "latency_ms": 1e3 * parity.latency_per_example(exported.model, summary, x[0], repeats=20),
            "tflm_runs": tflm["runs"], "tflm_arena_bytes": tflm.get("arena_bytes"),
            "tflm_max_abs_diff": exportable_lib.continuous_max_abs_diff(tflm["parity"]) if tflm["runs"] else None,
            "tflm_agreement": ({k: r["agreement"] for k, r in tflm["parity"].items() if "agreement" in r}
                               if tflm["runs"] else None),
            "tflm_reason": tflm.get("reason"),
            "reference_kernels_on_esp32": tflm["ops"]["reference_kernels_on_esp32"],
            "seconds": time.perf_counter() - started})
        rows.append(row)
        print(json.dumps(row), flush=True)
  print("| family | target | mode | param bytes | tflite bytes | max abs diff | agreement | latency ms | "
        "TFLM arena bytes | TFLM max abs diff | TFLM agreement |")
  print("|---|---|---|---|---|---|---|---|---|---|---|")
  for r in rows:
    if r["family"] == "random_forest":
      flash = r.get("flash") or {}
      total = sum(part["flash_bytes"] for key, part in flash.items() if key in ("model", "features"))
      print(f"| random_forest | c | float32 | - | C flash {total:,} (forest {flash.get('model', {}).get('flash_bytes')}, "
            f"features {flash.get('features', {}).get('flash_bytes')}) | - | C = sklearn {r.get('c_agreement')} | - | "
            f"RAM {sum(r['ram_bytes'].values()):,} | {r.get('c_max_prob_diff')} | - |")
      continue
    if "error" in r:
      print(f"| {r['family']} | {r['target']} | {r['mode']} | {r['param_bytes']:,} | not exported: {r['error'][:80]} "
            "| | | | | | |")
      continue
    agree = ", ".join(f"{k} {v:.2f}" for k, v in r["agreement"].items()) or "-"
    if r["tflm_runs"]:
      tflm = (f"{r['tflm_arena_bytes']:,} | {r['tflm_max_abs_diff']:.1e} | "
              + (", ".join(f"{k} {v:.2f}" for k, v in r["tflm_agreement"].items()) or "-"))
    else:
      tflm = f"does not run: {r['tflm_reason'][:60]} | - | -"
    print(f"| {r['family']} | {r['target']} | {r['mode']} | {r['param_bytes']:,} | {r['tflite_bytes']:,} | "
          f"{r['max_abs_diff']:.1e} | {agree} | {r['latency_ms']:.3f} | {tflm} |")
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
  main()

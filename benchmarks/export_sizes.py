"""Sizes, parity and latency of the TFLite export at each model's full (seed) size.

  python benchmarks/export_sizes.py [--families lstm_filter,sign_lstm,maxcrnn,tcn,cnn_svm]
                                    [--modes none,dynamic,float16,int8]

Models are randomly initialised at their full configs (parameter counts do not
depend on training), so the numbers are sizes, fp32 parity and per-example
latency; quantized agreement here is on random inputs calibrated on random
inputs, not an accuracy (launch/export.py on a trained workdir gives that).
The CNN-SVM stands in for the HHT system: research.models.cnn.HHTEncoder (Conv 64/128/256,
stride 2, instance norm, LeakyReLU, global average pooling) on 256x256 images
and an RBF SVC (C=10) fitted on 96 random feature vectors of 6 classes.
Takes a few minutes on a 2-core CPU (the unrolled int8 LSTMs take longest).
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
  from research.export import pipeline
  shape, classes = FAMILIES[name]
  meta = {"class_names": [f"c{i}" for i in range(classes)], "input_shape": list(shape)}
  x = rng.normal(size=(8,) + shape).astype(np.float32)
  if name == "cnn_svm":
    from sklearn import preprocessing, svm
    from research.models.cnn import HHTEncoder
    encoder = HHTEncoder()
    variables = encoder.init(jax.random.PRNGKey(0), x[:1])
    features = rng.normal(size=(96, 256)).astype(np.float32)
    y = np.arange(96) % classes
    features += np.eye(classes, 256, dtype=np.float32)[y] * 3.0
    scaler = preprocessing.StandardScaler().fit(features)
    svc = svm.SVC(C=10.0, gamma="scale").fit(scaler.transform(features), y)
    encode = lambda x: encoder.apply(variables, x, train=False)
    return pipeline.svm_exportable(encode, variables, svc, scaler, meta), x
  from research.models import build_model
  from research.tasks import build_task
  config = _config(name)
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  variables = model.init(jax.random.PRNGKey(0), x[:2], train=False)
  fn = lambda x: task.predict(model.apply(variables, x, train=False))
  return pipeline.Exportable(fn=fn, variables=variables, meta=meta, config=config, notes=[]), x


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--families", default=",".join(FAMILIES))
  parser.add_argument("--modes", default="none,dynamic,float16,int8")
  parser.add_argument("--out", default="")
  args = parser.parse_args()
  from research.export import parity, pipeline, tflite
  rows = []
  for name in args.families.split(","):
    rng = np.random.default_rng(0)
    item, x = exportable(name, rng)
    reference = pipeline._reference(item.fn, x)
    kinds = {key: pipeline.OUTPUTS[key][0] for key in reference}
    for mode in args.modes.split(","):
      started = time.perf_counter()
      exported = tflite.convert(item.fn, x, quantize=mode, representative=x, where=f"{name} ({mode})")
      summary = exported.summary()
      got = parity.run(exported.model, summary, x)
      compared = parity.compare(reference, got, kinds)
      row = {"family": name, "mode": mode, "param_bytes": parity.param_bytes(item.variables),
             "tflite_bytes": len(exported.model), "unrolled": exported.unrolled,
             "max_abs_diff": pipeline.continuous_max_abs_diff(compared),
             "agreement": {k: r["agreement"] for k, r in compared.items() if "agreement" in r},
             "latency_ms": 1e3 * parity.latency_per_example(exported.model, summary, x[0], repeats=20),
             "seconds": time.perf_counter() - started}
      rows.append(row)
      print(json.dumps(row), flush=True)
  print("| family | mode | param bytes | tflite bytes | max abs diff | agreement | latency ms |")
  print("|---|---|---|---|---|---|---|")
  for r in rows:
    agree = ", ".join(f"{k} {v:.2f}" for k, v in r["agreement"].items()) or "-"
    print(f"| {r['family']} | {r['mode']} | {r['param_bytes']:,} | {r['tflite_bytes']:,} | "
          f"{r['max_abs_diff']:.1e} | {agree} | {r['latency_ms']:.3f} |")
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
  main()

"""C back ends: what has no .tflite form, written as portable C99 and checked with gcc here.

  forest           a fitted Random Forest as model.h (exact float32 thresholds), checked
                   against scikit-learn; export_run writes a trained workdir's forest
  features         the sEMG window features (features.py) as model_features.h + main.c
  multirocket_hydra  a MultiRocket-Hydra run (features, scaling, ridge) as model.h + main.c,
                   checked against the run's features and decision scores
  quant            QUANT (research/heads/quant.py) and its trees: model_features.h (interval and
                   quantile tables from quant.py), model.h (forest.py's writer), main.c; export_run
                   checks a trained workdir's C program against the run
  build            exact float literals, C arrays, the C sources beside this file, gcc, compiled
                   sizes (flash, static RAM), the parity lines of the reports
  semg_features.h/.c   the sEMG feature extractor itself (package data)
  quant_features.h/.c  the QUANT feature extractor itself (package data)
  multirocket_hydra_features.h/.c  MultiRocket-Hydra's features, scaling and decision (package data)

The back ends that export a trained workdir (forest, quant, multirocket_hydra) each offer supports(run),
export_run(run, held, folder, split_name) and report(record, workdir); research/export/pipeline.py
tries them in order.

Why MultiRocket-Hydra goes to C and not through TFLite (measured on BasicMotions, 40 test series):
jax2tf converts hydra.transform and multirocket.transform to builtin ops that TFLM registers
(ARG_MAX, ARG_MIN, EQUAL for the winner counts; WHILE for the pooling scan), so a kernel is not
what is missing. But (1) both graphs fail TFLM's allocation (CONCATENATION of more than 10
inputs), and the transforms alone become 2.2 MB of .tflite whose arena would hold every feature
(~54k floats) and the scan's carries, where C streams each feature into the decision in 3.7 KB
of RAM; (2) neither route is bit-exact for the threshold counts (PPV, LSPV, Hydra's hard counts):
LiteRT left 4 of 2 million MultiRocket values off by a count, the C code none (it keeps the scan's
order for the sums); (3) the feature map has no JAX form to export (`jax_fn` is None).
"""

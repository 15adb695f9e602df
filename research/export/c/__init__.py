"""C back ends: what has no .tflite form, written as portable C99 and checked with gcc here.

  forest           a fitted Random Forest as model.h (exact float32 thresholds), checked
                   against scikit-learn; export_run writes a trained workdir's forest
  features         the sEMG window features (features.py) as model_features.h + main.c
  quant            QUANT (research/heads/quant.py) and its trees: model_features.h (interval and
                   quantile tables from quant.py), model.h (forest.py's writer), main.c; export_run
                   checks a trained workdir's C program against the run
  build            exact float literals, C arrays, the C sources beside this file, gcc, compiled
                   sizes (flash, static RAM), the parity lines of the reports
  semg_features.h/.c   the sEMG feature extractor itself (package data)
  quant_features.h/.c  the QUANT feature extractor itself (package data)

The back ends that export a trained workdir (forest, quant) each offer supports(run),
export_run(run, held, folder, split_name) and report(record, workdir); research/export/pipeline.py
tries them in order.
"""

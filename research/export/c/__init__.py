"""C back ends: what has no .tflite form, written as portable C99 and checked with gcc here.

  forest           a fitted Random Forest as model.h (exact float32 thresholds), checked
                   against scikit-learn; export_run writes a trained workdir's forest
  features         the sEMG window features (features.py) as model_features.h + main.c
  build            exact float literals, the C sources beside this file, gcc, compiled sizes
  semg_features.h/.c   the feature extractor itself (package data)
"""

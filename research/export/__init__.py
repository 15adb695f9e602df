"""Export of trained runs to what phones and microcontrollers run, checked against the run.

  pipeline   a trained workdir -> its export and the summary text (launch/export.py's one call)
  staging    the export written whole or not at all: a private folder, moved into place, export.json last
  tflite/    JAX function -> .tflite through jax2tf (built-in ops only), op checks, parity
  tflm.py    TFLite Micro: op check against its kernels, smallest tensor arena, parity
  rewrite.py the one jaxpr rewriter: scans unrolled (int8), the microcontroller graph rules
  c/         C back ends: a Random Forest and its sEMG features as C99, checked with gcc

TensorFlow is imported lazily, inside the functions of tflite/converter.py that need it,
so nothing outside this package (and no training run) ever loads it.
"""

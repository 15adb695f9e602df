"""Export to TFLite through jax2tf, and the parity checks that accept an export.

  unroll    scans rewritten as straight-line code (pure JAX)
  svm_jax   a fitted scikit-learn SVC (+ scaler) as a JAX function (pure JAX)
  ops       the operator list of a .tflite flatbuffer; refuses Flex/custom ops
  tflite    JAX function -> .tflite bytes, with quantization (imports TensorFlow)
  parity    runs a .tflite with ai-edge-litert and compares it with JAX
  pipeline  a trained workdir -> model.tflite, labels.json, export.json

TensorFlow is imported lazily, inside the functions of `tflite` that need it, so
nothing outside this package (and no training run) ever loads it.
"""

"""JAX function -> .tflite (jax2tf, built-in ops only), its op checks and its parity with JAX.

  converter   fn(x) -> .tflite bytes per quantization mode and target (imports TensorFlow lazily)
  ops         the operator list of a .tflite flatbuffer; refuses Flex/custom ops
  parity      runs a .tflite with ai-edge-litert and compares it with JAX
  exportable  a trained run's inference function -> model files, parity rows, export.json

Nothing is imported here: TFLite Micro's check process (research.export.tflm) imports
ops and parity without JAX.
"""

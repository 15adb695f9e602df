"""Reference implementations (Keras, PyTorch) that benchmarks/run.py times against ours."""

"""Installable package `research`: pure-JAX models for biosignal and sensor time series."""

import setuptools

CORE = [
    "jax>=0.7",
    # jax's dtype library: 0.7.0 registers its NumPy ufunc loops in quadratic time, 0.7 s at every
    # import of jax on a 2-core CPU (0.6.0: 5 ms), the largest single cost of a process's start.
    "ml_dtypes>=0.5,<0.7",
    "flax>=0.11",
    "optax>=0.2.5",
    "orbax-checkpoint>=0.11",
    "numpy>=1.26",
    "scikit-learn>=1.5",
    "matplotlib>=3.8",
    "ml-collections>=1.0",
    "absl-py>=2.1",
    "tqdm>=4.66",
    "tensorboardX>=2.6",  # TensorBoard event files without TensorFlow at training time
    "scipy>=1.12",
    "EMD-signal>=1.6",  # PyEMD: empirical mode decomposition for the sEMG Hilbert-Huang images
]

TFDS = ["tensorflow-datasets>=4.9.9", "array-record>=0.8", "importlib_resources>=6"]

setuptools.setup(
    name="research",
    version="0.1.0",
    description="One JAX codebase for sEMG, keypoint and sensor time-series models.",
    packages=setuptools.find_packages(include=["research", "research.*"]),
    # The C sources written beside an exported Random Forest (research/export/c/).
    package_data={"research.export.c": ["*.c", "*.h"]},
    python_requires=">=3.10",
    install_requires=CORE,
    extras_require={
        # tflite-micro: TFLite Micro's interpreter (Python wheel) for the microcontroller checks.
        "export": ["tensorflow-cpu>=2.18", "ai-edge-litert>=1.2", "tflite-micro"],
        # config.data.name = "tfds" (research/data/tfds_reader.py, imported lazily): array_record read
        # without TensorFlow; importlib_resources: tfds needs it for builders defined outside its packages.
        "tfds": TFDS,
        # aeon: the MiniRocket, InceptionTime, QUANT and Hydra references and its bundled datasets (torch,
        # a CPU build when pinned: aeon's QUANT and Hydra compute in it); tfds: the reader's
        # tests build a dataset; nbclient + nbformat + ipykernel execute docs/quickstart.ipynb in a test.
        "test": ["pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6.100", "aeon>=1.0", "torch==2.13.0", *TFDS,
                 "nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6.29"],
        # tensorflow-datasets: benchmarks/data_cache.py's array_record comparison (importlib_resources:
        # tfds needs it for builders defined outside its own packages).
        "bench": ["torch==2.13.0", "aeon>=1.0", *TFDS],
    },
)

"""Times a full 200-epoch fit of the sign-language LSTM at the seed's size.

  python benchmarks/sign_lstm_fit.py [--epochs 200] [--checkpoint-every N] [--workdir /tmp/sign_bench]

Size: 10 actions x 30 sequences x 30 frames x 1662 features (synthetic keypoints),
stratified 10% test / 15% validation -> 229 training sequences, batch 16 (15 steps per
epoch), early stopping off so every epoch runs. Prints the wall time of the whole fit
(data loading, compilation, training, checkpoints, report), the first epoch (which
includes compilation) and the median of the other epochs, as one JSON line.
For comparison: Keras 3 / TF 2.21 on the same machine class takes ~0.5 s per epoch,
~100 s for 200 epochs (shared/STACK_NOTES.md).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import statistics
import time

from research import config_file


def _config(epochs: int, checkpoint_every: int | None):
  path = pathlib.Path(__file__).resolve().parents[1] / "configs" / "sign_lstm.py"
  config = config_file.load(path)
  config.train.epochs = epochs
  if checkpoint_every:
    config.train.checkpoint_every = checkpoint_every
  config.train.early_stopping.enabled = False
  return config


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--epochs", type=int, default=200)
  parser.add_argument("--checkpoint-every", type=int, default=None,
                      help="epochs between checkpoints (default: the config's)")
  parser.add_argument("--workdir", default="/tmp/sign_lstm_bench")
  args = parser.parse_args()

  import jax

  from research.data import load_dataset
  from research.train import fit

  workdir = pathlib.Path(args.workdir)
  shutil.rmtree(workdir, ignore_errors=True)
  config = _config(args.epochs, args.checkpoint_every)
  started = time.perf_counter()
  dataset = load_dataset(config)
  loaded = time.perf_counter()
  report = fit(config, dataset, workdir)
  finished = time.perf_counter()
  history = [json.loads(line) for line in (workdir / "history.jsonl").read_text().splitlines()]
  epoch_seconds = [row["seconds"] for row in history]
  print(json.dumps({
      "benchmark": "sign_lstm_fit", "epochs": len(history), "sizes": dataset.sizes(),
      "input_shape": list(dataset.train["x"].shape[1:]), "batch_size": config.train.batch_size,
      "checkpoint_every": config.train.checkpoint_every,
      "data_seconds": round(loaded - started, 2), "fit_seconds": round(finished - loaded, 2),
      "first_epoch_seconds": round(epoch_seconds[0], 2),
      "median_epoch_seconds": round(statistics.median(epoch_seconds[1:] or epoch_seconds), 3),
      "train_seconds_sum": round(sum(epoch_seconds), 2),
      "test_accuracy": round(report["accuracy"], 4), "best_epoch": report["best_epoch"],
      "device": str(jax.devices()[0]), "cpu_count": os.cpu_count(),
      "python": platform.python_version(), "jax": jax.__version__}))


if __name__ == "__main__":
  main()

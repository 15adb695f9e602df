"""PyTorch reference of the HHT encoder + softmax head (configs/cnn_svm.py): seconds per epoch.

  python benchmarks/reference/torch_hht_encoder.py [--size 64] [--steps 9] [--epochs 2]

The network of research/models/cnn.py: three blocks Conv2d(kernel 4, stride 2, padding 1)
1 -> 64 -> 128 -> 256 channels, InstanceNorm2d (no affine), LeakyReLU(0.2); global average
pooling, Dropout .2, Linear 6. Adam 1e-3, gradient norm clipped at 1.0, batch 16, shuffled;
validation in batches of 32. Random images of `--size` x `--size`, `--steps` x 16 training
images and 36 validation images (the shapes of benchmarks/conv_epoch.py). One warm-up epoch,
then the mean of `--epochs` epochs. Prints one JSON line. Needs torch (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # benchmarks/: the shared timing
from reference import seconds_per_epoch  # noqa: E402


def time_torch(data, classes: int, batch_size: int, eval_batch_size: int, epochs: int = 1,
               warmup: bool = False, threads: int = 0) -> float:
  """Seconds per epoch (mean of `epochs`) on `data` = {"train"|"val": {"x": (N, H, W, 1), "y": (N,)}}."""
  import torch
  from torch import nn

  if threads:
    torch.set_num_threads(threads)

  def block(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.InstanceNorm2d(c_out), nn.LeakyReLU(0.2)]

  torch.manual_seed(0)
  encoder = nn.Sequential(*block(1, 64), *block(64, 128), *block(128, 256))
  head = nn.Sequential(nn.Dropout(0.2), nn.Linear(256, classes))
  model = nn.ModuleDict({"encoder": encoder, "head": head})
  forward = lambda x: head(encoder(x).mean((2, 3)))
  opt = torch.optim.Adam(model.parameters(), lr=1e-3)
  as_nchw = lambda a: torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 1)))
  x, y = as_nchw(data["train"]["x"]), torch.from_numpy(data["train"]["y"]).long()
  xv, yv = as_nchw(data["val"]["x"]), torch.from_numpy(data["val"]["y"]).long()

  def one_epoch():
    model.train()
    for idx in torch.randperm(len(x)).split(batch_size):
      opt.zero_grad()
      loss = nn.functional.cross_entropy(forward(x[idx]), y[idx])
      loss.backward()
      nn.utils.clip_grad_norm_(model.parameters(), 1.0)
      opt.step()
    model.eval()
    with torch.no_grad():
      for start in range(0, len(xv), eval_batch_size):
        nn.functional.cross_entropy(forward(xv[start:start + eval_batch_size]), yv[start:start + eval_batch_size])

  return seconds_per_epoch(one_epoch, epochs, warmup)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--size", type=int, default=64, help="image side")
  parser.add_argument("--steps", type=int, default=9, help="training batches of 16 per epoch")
  parser.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
  args = parser.parse_args()
  import torch

  rng = np.random.default_rng(0)
  data = {name: {"x": rng.normal(size=(n, args.size, args.size, 1)).astype(np.float32),
                 "y": rng.integers(0, 6, n).astype(np.int32)}
          for name, n in (("train", 16 * args.steps), ("val", 36))}
  seconds = time_torch(data, 6, 16, 32, args.epochs, warmup=True)
  print(json.dumps({"benchmark": "torch_hht_encoder", "size": args.size, "train": 16 * args.steps,
                    "batch_size": 16, "epochs_timed": args.epochs, "epoch_s": round(seconds, 3),
                    "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
  main()

"""PyTorch reference of InceptionTime (configs/inception_time.py): seconds per epoch of 5 networks.

  python benchmarks/reference/torch_inception_time.py [--epochs 2]

The network of research/models/inception_time.py: 6 Inception modules (1x1 bottleneck to 32,
convolutions 39/19/9 with 'same' padding, max-pool 3 -> 1x1, 32 filters each, no bias;
BatchNorm1d (momentum .01 = Keras' .99, eps 1e-3), ReLU), a 1x1 conv + BatchNorm shortcut every
3 modules, global average pooling, Linear. Adam 1e-3, batch 16, shuffled; validation in batches
of 256. The ensemble's networks train one after the other (PyTorch has no vmap over modules
here). Random series: 40 training and 10 validation series of 100 frames x 6 channels, 4 classes
(the shapes of benchmarks/conv_epoch.py). One warm-up epoch, then the mean of `--epochs` epochs.
Prints one JSON line. Needs torch (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # benchmarks/: the shared timing
from reference import seconds_per_epoch  # noqa: E402


def _network(channels: int, classes: int, filters: int = 32, depth: int = 6, kernels=(39, 19, 9)):
  import torch
  from torch import nn

  class Module(nn.Module):
    def __init__(self, c_in):
      super().__init__()
      self.bottleneck = nn.Conv1d(c_in, filters, 1, bias=False) if c_in > 1 else None
      width = filters if c_in > 1 else c_in
      self.convs = nn.ModuleList(nn.Conv1d(width, filters, k, padding="same", bias=False) for k in kernels)
      self.pool = nn.MaxPool1d(3, stride=1, padding=1)
      self.pool_conv = nn.Conv1d(c_in, filters, 1, bias=False)
      self.norm = nn.BatchNorm1d(filters * (len(kernels) + 1), momentum=0.01, eps=1e-3)

    def forward(self, x):
      z = self.bottleneck(x) if self.bottleneck is not None else x
      branches = [conv(z) for conv in self.convs] + [self.pool_conv(self.pool(x))]
      return nn.functional.relu(self.norm(torch.cat(branches, 1)))

  class Network(nn.Module):
    def __init__(self):
      super().__init__()
      width = filters * (len(kernels) + 1)
      self.blocks = nn.ModuleList(Module(channels if i == 0 else width) for i in range(depth))
      self.shortcuts = nn.ModuleList(
          nn.Sequential(nn.Conv1d(channels if i == 0 else width, width, 1, bias=False),
                        nn.BatchNorm1d(width, momentum=0.01, eps=1e-3)) for i in range(depth // 3))
      self.head = nn.Linear(width, classes)

    def forward(self, x_BFT):
      h, residual = x_BFT, x_BFT
      for i, block in enumerate(self.blocks):
        h = block(h)
        if i % 3 == 2:
          h = nn.functional.relu(self.shortcuts[i // 3](residual) + h)
          residual = h
      return self.head(h.mean(2))

  return Network()


def time_torch(data, classes: int, batch_size: int, eval_batch_size: int, networks: int, epochs: int = 1,
               warmup: bool = False, threads: int = 0) -> float:
  """Seconds per epoch (mean of `epochs`) of `networks` networks on
  `data` = {"train"|"val": {"x": (N, T, F), "y": (N,)}}."""
  import torch
  from torch import nn

  if threads:
    torch.set_num_threads(threads)
  torch.manual_seed(0)
  as_nft = lambda a: torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 1)))
  x, y = as_nft(data["train"]["x"]), torch.from_numpy(data["train"]["y"]).long()
  xv, yv = as_nft(data["val"]["x"]), torch.from_numpy(data["val"]["y"]).long()
  models = [_network(x.shape[1], classes) for _ in range(networks)]
  opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in models]

  def one_epoch():
    for model, opt in zip(models, opts):
      model.train()
      for idx in torch.randperm(len(x)).split(batch_size):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
      model.eval()
      with torch.no_grad():
        for start in range(0, len(xv), eval_batch_size):
          nn.functional.cross_entropy(model(xv[start:start + eval_batch_size]), yv[start:start + eval_batch_size])

  return seconds_per_epoch(one_epoch, epochs, warmup)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
  args = parser.parse_args()
  import torch

  rng = np.random.default_rng(0)
  data = {name: {"x": rng.normal(size=(n, 100, 6)).astype(np.float32),
                 "y": rng.integers(0, 4, n).astype(np.int32)}
          for name, n in (("train", 40), ("val", 10))}
  seconds = time_torch(data, 4, 16, 256, 5, args.epochs, warmup=True)
  print(json.dumps({"benchmark": "torch_inception_time", "train": 40, "shape": [100, 6], "networks": 5,
                    "batch_size": 16, "epochs_timed": args.epochs, "epoch_s": round(seconds, 3),
                    "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
  main()

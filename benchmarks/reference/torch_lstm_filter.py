"""The seed's PyTorch loop for the LSTM frequency filter: seconds per epoch.

  python benchmarks/reference/torch_lstm_filter.py [--epochs 2]

Same data as benchmarks/lstm_epoch.py (configs/lstm_filter.py's fixed training split,
35,823 sequences of 50 x 5): 2-layer LSTM(128) (dropout .2), Dropout .2, Linear 1 per step;
Adam 1e-3 with weight_decay 1e-5 (coupled L2, as config.optim.l2), gradient norm clipped
at 1.0, batch 64, shuffled; validation in batches of 1024. One warm-up epoch, then the mean
of `--epochs` epochs. Prints one JSON line. Needs torch (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # benchmarks/: the shared timing

from reference import seconds_per_epoch  # noqa: E402


def time_torch(dataset, epochs: int) -> float:
  """Seconds per epoch (mean of `epochs`, after one warm-up epoch) of the seed's loop on `dataset`."""
  import torch
  from torch import nn

  class FrequencyFilter(nn.Module):
    def __init__(self):
      super().__init__()
      self.lstm = nn.LSTM(5, 128, num_layers=2, batch_first=True, dropout=0.2)
      self.dropout = nn.Dropout(0.2)
      self.fc = nn.Linear(128, 1)

    def forward(self, x):
      return self.fc(self.dropout(self.lstm(x)[0]))

  torch.manual_seed(0)
  model = FrequencyFilter()
  opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
  x, y = torch.from_numpy(dataset.train["x"]), torch.from_numpy(dataset.train["y"])
  xv, yv = torch.from_numpy(dataset.val["x"]), torch.from_numpy(dataset.val["y"])

  def one_epoch():
    model.train()
    for idx in torch.randperm(len(x)).split(64):
      opt.zero_grad()
      loss = nn.functional.mse_loss(model(x[idx]), y[idx])
      loss.backward()
      nn.utils.clip_grad_norm_(model.parameters(), 1.0)
      opt.step()
    model.eval()
    with torch.no_grad():
      for start in range(0, len(xv), 1024):
        nn.functional.mse_loss(model(xv[start:start + 1024]), yv[start:start + 1024])

  return seconds_per_epoch(one_epoch, epochs)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
  args = parser.parse_args()
  import torch

  from research import config_file
  from research.data import load_dataset
  config = config_file.load(pathlib.Path(__file__).resolve().parents[2] / "configs" / "lstm_filter.py")
  dataset = load_dataset(config)
  seconds = time_torch(dataset, args.epochs)
  print(json.dumps({"benchmark": "torch_lstm_filter", "sequences": len(dataset.train["x"]), "batch_size": 64,
                    "epochs_timed": args.epochs, "epoch_s": round(seconds, 3), "torch": torch.__version__,
                    "threads": torch.get_num_threads()}))


if __name__ == "__main__":
  main()

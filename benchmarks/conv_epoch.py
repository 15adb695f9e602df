"""Seconds per training epoch of the convolutional models: scanned vs host-stepped epoch, vs PyTorch.

  python benchmarks/conv_epoch.py [--cases hht64,inception,tcn,maxcrnn] [--impls matmul,xla]
                                  [--modes scan,host] [--rounds 3] [--steps 9]

Cases (random data of the stated shapes, the configs' optimizer, batch and augmentation):
  hht64 / hht256   configs/cnn_svm.py's HHT encoder + softmax head (1 -> 64 -> 128 -> 256 channels,
                   three Conv2D stride-2 blocks), images 64 x 64 or 256 x 256, batch 16, `--steps`
                   steps (9 by default) + validation of 36 images; Adam 1e-3, gradient norm clip 1.
  inception        configs/inception_time.py: 5 networks (one vmapped program), 40 series of
                   100 frames x 6 channels, 4 classes, batch 16 (3 steps) + validation of 10 series.
  tcn              configs/tcn.py: 512 windows of 30 x 25, batch 32 (16 steps), balanced sampler,
                   validation of 256 windows (benchmarks/tcn_epoch.py times 2,048).
  maxcrnn          configs/maxcrnn.py: 256 sEMG windows of 3000 x 1, batch 64 (4 steps), online
                   augmentation, validation of 64 windows.
For each convolution form (`--impls`, config.model.conv), each round, each of `--modes` in turn, the
epoch as research.train.loop runs it (engine.make_epoch_pieces through placement.epoch_program, one
device, state donated):
  scan    config.train.stepping "scan": one compiled program, lax.scan over the steps
  host    config.train.stepping "host": compiled begin / step / finish, the steps called from Python
and once a round the PyTorch reference of the same network where there is one (hht, inception;
benchmarks/reference/torch_*.py). The first call of each compiled program is left out. Prints one
JSON line per case with the median seconds of each, the ratios, and the load average (the machine
may be shared: compare the figures of one run, which alternate).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from research import config_file
from research.models import build_model
from research.tasks import build_task
from research.train import engine, loop, mesh, optim, placement, sampling

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference import keras_tcn, torch_hht_encoder, torch_inception_time  # noqa: E402

_CONFIGS = pathlib.Path(__file__).resolve().parents[1] / "configs"


def _hht_case(size: int, steps: int):
  config = config_file.load(_CONFIGS / "cnn_svm.py")
  classes = 6
  return config, _random_splits((size, size, 1), classes, steps * config.train.batch_size, 36), classes, 1


def _random_splits(shape, classes: int, n_train: int, n_val: int) -> dict:
  """Normal-noise examples of `shape` with uniform labels: {"train": ..., "val": ...} (seed 0)."""
  rng = np.random.default_rng(0)
  return {name: {"x": rng.normal(size=(n, *shape)).astype(np.float32),
                 "y": rng.integers(0, classes, n).astype(np.int32)}
          for name, n in (("train", n_train), ("val", n_val))}


def _inception_case():
  config = config_file.load(_CONFIGS / "inception_time.py")
  return config, _random_splits((100, 6), 4, 40, 10), 4, config.train.ensemble


def _tcn_case():
  config = config_file.load(_CONFIGS / "tcn.py")
  data = {"train": keras_tcn.windows(512, 0), "val": keras_tcn.windows(256, 1)}
  return config, data, list(config.data.class_names), 1


def _maxcrnn_case():
  config = config_file.load(_CONFIGS / "maxcrnn.py")
  return config, _random_splits((3000, 1), 4, 256, 64), 4, 1


def _programs(config, data, classes, runs: int, impl: str, modes: list[str]):
  """{mode: epoch closure} for `modes` (scan, host), each compiled and run once."""
  config.model.conv = impl
  names = classes if isinstance(classes, list) else [str(c) for c in range(classes)]
  meta = {"class_names": names}
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  optimizer = optim.build_optimizer(config.optim)
  sizes = (config.train.batch_size, config.train.eval_batch_size)
  place = placement.Placement(mesh.build(config, runs, sizes), runs, *sizes)
  train, val = (place.data(data[name], None) for name in ("train", "val"))
  pieces = engine.make_epoch_pieces(model, task, optimizer, config.train, sampler=sampling.from_config(config),
                                    augment=sampling.augment_from_config(config))
  initial = loop.init_states(model, optimizer, data["train"]["x"][:1], config.train.mode, list(range(runs)))
  holder, programs, compile_s = {}, {}, {}
  for mode in modes:
    epoch = place.epoch_program(pieces, None, None, mode)
    holder[mode] = jax.tree_util.tree_map(jnp.copy, initial)

    def run(mode=mode, epoch=epoch):
      holder[mode], metrics = epoch(holder[mode], train, val)
      jax.block_until_ready(metrics)

    programs[mode] = run
    compile_s[mode] = round(_timed(run), 2)
  return programs, compile_s


def _timed(fn) -> float:
  started = time.perf_counter()
  fn()
  return time.perf_counter() - started


def run_case(name: str, impls: list[str], modes: list[str], rounds: int, steps: int, torch_threads: int) -> dict:
  if name.startswith("hht"):
    config, data, classes, runs = _hht_case(int(name[3:]), steps)
    torch_epoch = functools.partial(torch_hht_encoder.time_torch, data, classes, config.train.batch_size,
                                    config.train.eval_batch_size, threads=torch_threads)
  elif name == "inception":
    config, data, classes, runs = _inception_case()
    torch_epoch = functools.partial(torch_inception_time.time_torch, data, classes, config.train.batch_size,
                                    config.train.eval_batch_size, runs, threads=torch_threads)
  elif name in ("tcn", "maxcrnn"):
    config, data, classes, runs = _tcn_case() if name == "tcn" else _maxcrnn_case()
    torch_epoch = None
  else:
    raise SystemExit(f"--cases: unknown case {name!r}; valid: hht64, hht256, hht<size>, inception, tcn, maxcrnn")
  programs, compiles = {}, {}
  for impl in impls:
    programs[impl], compiles[impl] = _programs(config, data, classes, runs, impl, modes)
  times = {f"{mode}_{impl}": [] for impl in impls for mode in modes}
  if torch_epoch is not None:
    times["torch"] = []
    torch_epoch(epochs=1, warmup=True)  # the first epoch pays for setup
  for _ in range(rounds):
    for impl in impls:
      for mode in modes:
        times[f"{mode}_{impl}"].append(_timed(programs[impl][mode]))
    if torch_epoch is not None:
      times["torch"].append(torch_epoch(epochs=1))
  median = {key: round(statistics.median(values), 3) for key, values in times.items()}
  ratios = {f"{key}/torch": round(value / median["torch"], 2) for key, value in median.items()
            if key != "torch" and "torch" in median}
  return {"benchmark": "conv_epoch", "case": name, "runs": runs, "train": len(data["train"]["y"]),
          "shape": list(data["train"]["x"].shape[1:]), "batch_size": config.train.batch_size,
          "epoch_s_median": median, "ratio_to_torch": ratios,
          "epoch_s_all": {k: [round(t, 3) for t in v] for k, v in times.items()},
          "first_call_s": compiles, "device": jax.devices()[0].device_kind,
          "load_average": [round(v, 2) for v in os.getloadavg()]}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--cases", default="hht64,inception,tcn,maxcrnn",
                      help="comma list: hht64, hht256, inception, tcn, maxcrnn")
  parser.add_argument("--impls", default="matmul,xla", help="comma list of config.model.conv forms")
  parser.add_argument("--modes", default="scan,host", help="comma list: scan, host (config.train.stepping)")
  parser.add_argument("--rounds", type=int, default=3, help="timed epochs of each program, alternating")
  parser.add_argument("--steps", type=int, default=9, help="training steps per epoch of the HHT cases")
  parser.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
  args = parser.parse_args()
  for name in args.cases.split(","):
    result = run_case(name, args.impls.split(","), args.modes.split(","), args.rounds, args.steps,
                      args.torch_threads)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
  main()

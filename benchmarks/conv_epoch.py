"""Seconds per training epoch of the convolutional models: engine epoch vs host loop vs PyTorch.

  python benchmarks/conv_epoch.py [--cases hht64,inception] [--impls matmul,xla] [--modes engine,host]
                                  [--rounds 3] [--steps 9]

Cases (random data of the stated shapes, the configs' optimizer and batch):
  hht64 / hht256   configs/cnn_svm.py's HHT encoder + softmax head (1 -> 64 -> 128 -> 256 channels,
                   three Conv2D stride-2 blocks), images 64 x 64 or 256 x 256, batch 16, `--steps`
                   steps (9 by default) + validation of 36 images; Adam 1e-3, gradient norm clip 1.
  inception        configs/inception_time.py: 5 networks (one vmapped program), 40 series of
                   100 frames x 6 channels, 4 classes, batch 16 (3 steps) + validation of 10 series.
For each convolution form (`--impls`, config.model.conv), each round, each of `--modes` in turn:
  engine  the compiled epoch (`engine.make_epoch_fn`, jitted, state donated): lax.scan over steps
  host    the same jitted train step called from a Python loop, then the jitted evaluation
and once a round the PyTorch reference of the same network (benchmarks/reference/torch_*.py).
The first call of each compiled program is left out. Prints one JSON line per case with the
median seconds of each, the ratios, and the load average (the machine may be shared: compare
the figures of one run, which alternate).
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
from research.train import engine, optim, sampling

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reference import torch_hht_encoder, torch_inception_time  # noqa: E402

_CONFIGS = pathlib.Path(__file__).resolve().parents[1] / "configs"


def _hht_case(size: int, steps: int):
  config = config_file.load(_CONFIGS / "cnn_svm.py")
  rng = np.random.default_rng(0)
  n_train, n_val, classes = steps * config.train.batch_size, 36, 6
  data = {name: {"x": rng.normal(size=(n, size, size, 1)).astype(np.float32),
                 "y": rng.integers(0, classes, n).astype(np.int32)}
          for name, n in (("train", n_train), ("val", n_val))}
  return config, data, classes, 1


def _inception_case():
  config = config_file.load(_CONFIGS / "inception_time.py")
  rng = np.random.default_rng(0)
  classes = 4
  data = {name: {"x": rng.normal(size=(n, 100, 6)).astype(np.float32),
                 "y": rng.integers(0, classes, n).astype(np.int32)}
          for name, n in (("train", 40), ("val", 10))}
  return config, data, classes, config.train.ensemble


def _programs(config, data, classes: int, runs: int, impl: str, modes: list[str]):
  """{mode: epoch closure} for `modes` (engine, host), each compiled and run once."""
  config.model.conv = impl
  meta = {"class_names": [str(c) for c in range(classes)]}
  model, task = build_model(config.model, meta), build_task(config.task, meta)
  optimizer = optim.build_optimizer(config.optim)
  train, val = (jax.device_put(data[name]) for name in ("train", "val"))
  states = [engine.init_state(jax.random.PRNGKey(seed), model, optimizer, train["x"], config.train.mode)
            for seed in range(runs)]
  stack = lambda *a: jnp.stack(a)
  state = jax.tree_util.tree_map(stack, *states) if runs > 1 else states[0]
  over_runs = (lambda f, axes: jax.vmap(f, in_axes=axes)) if runs > 1 else (lambda f, axes: f)

  epoch_fn = engine.make_epoch_fn(model, task, optimizer, config.train, sampler=sampling.from_config(config))
  engine_epoch = jax.jit(over_runs(epoch_fn, (0, None, None)), donate_argnums=0)

  sampler = sampling.from_config(config)
  batch_size, eval_batch = config.train.batch_size, config.train.eval_batch_size

  def one_step(st, idx, w, key):
    batch = dict(jax.tree_util.tree_map(lambda a: a[idx], train), weight=w)
    return engine.train_step(model, task, optimizer, st, batch, key)[0]

  step = jax.jit(over_runs(one_step, (0, None, None, None)), donate_argnums=0)
  order = jax.jit(lambda key: sampler(key, train, batch_size))
  evaluate = jax.jit(over_runs(lambda st: engine.evaluate(model, task, st.variables(), val, eval_batch), (0,)))

  def host_epoch(st, key):
    index, weight = order(key)
    for i, key_i in enumerate(jax.random.split(key, index.shape[0])):
      st = step(st, index[i], weight[i], key_i)
    return st, evaluate(st)

  holder = {"engine": jax.tree_util.tree_map(jnp.copy, state), "host": state, "key": jax.random.PRNGKey(1)}

  def run_engine():
    holder["engine"], metrics = engine_epoch(holder["engine"], train, val)
    jax.block_until_ready(metrics)

  def run_host():
    holder["key"], key = jax.random.split(holder["key"])
    holder["host"], metrics = host_epoch(holder["host"], key)
    jax.block_until_ready(metrics)

  compile_s = {}
  programs = {name: fn for name, fn in (("engine", run_engine), ("host", run_host)) if name in modes}
  for name, fn in programs.items():
    started = time.perf_counter()
    fn()
    compile_s[name] = round(time.perf_counter() - started, 2)
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
  else:
    raise SystemExit(f"--cases: unknown case {name!r}; valid: hht64, hht256, hht<size>, inception")
  programs, compiles = {}, {}
  for impl in impls:
    programs[impl], compiles[impl] = _programs(config, data, classes, runs, impl, modes)
  times = {f"{mode}_{impl}": [] for impl in impls for mode in modes}
  times["torch"] = []
  torch_epoch(epochs=1, warmup=True)  # the first epoch pays for setup
  for _ in range(rounds):
    for impl in impls:
      for mode in modes:
        times[f"{mode}_{impl}"].append(_timed(programs[impl][mode]))
    times["torch"].append(torch_epoch(epochs=1))
  median = {key: round(statistics.median(values), 3) for key, values in times.items()}
  ratios = {f"{key}/torch": round(value / median["torch"], 2) for key, value in median.items() if key != "torch"}
  return {"benchmark": "conv_epoch", "case": name, "runs": runs, "train": len(data["train"]["y"]),
          "shape": list(data["train"]["x"].shape[1:]), "batch_size": config.train.batch_size,
          "epoch_s_median": median, "ratio_to_torch": ratios,
          "epoch_s_all": {k: [round(t, 3) for t in v] for k, v in times.items()},
          "first_call_s": compiles, "device": jax.devices()[0].device_kind,
          "load_average": [round(v, 2) for v in os.getloadavg()]}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--cases", default="hht64,inception", help="comma list: hht64, hht256, inception")
  parser.add_argument("--impls", default="matmul,xla", help="comma list of config.model.conv forms")
  parser.add_argument("--modes", default="engine,host", help="comma list: engine, host")
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

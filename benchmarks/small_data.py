"""Small public datasets: our MiniRocket + ridge (JAX) against aeon's MiniRocketClassifier.

  python benchmarks/small_data.py [--datasets BasicMotions,GunPoint] [--seed 0]
                                  [--inception-epochs 0] [--inception-members 1]
  python benchmarks/small_data.py --methods quant,multirocket_hydra [--seeds 5] [--datasets ...]

--methods quant: our QUANT features (research/heads/quant.py) + extra trees against aeon's
QUANTClassifier; multirocket_hydra: our MultiRocket-Hydra + ridge against aeon's
MultiRocketHydraClassifier (both need torch for aeon). Accuracy is the mean (min-max) over
--seeds seeds 0..S-1 (the trees' randomness; for MultiRocket-Hydra also the kernels and biases),
both sides with the same seeds. Times are fit + predict seconds per run: ours "cold" is the first
seed's run with JAX compilation, "warm" the mean of the later seeds (QUANT's features are
deterministic; MultiRocket-Hydra's kernels change with the seed but are arguments of the same
compiled programs); aeon's is the mean over seeds after one warm-up fit.

Datasets are the UCR/UEA problems aeon ships inside its package (no download), default
train/test splits. Unequal-length sets (JapaneseVowels, PickupGestureWiimoteZ) are zero-padded
at the end to the longest series of both splits for aeon, whose MiniRocket takes equal lengths
only; ours runs both on that padded array ("ours, padded") and with a mask ("ours"), where a
series is treated exactly as if it were given alone (see research/heads/minirocket.py).

Single core for everyone: the process is pinned to one CPU (os.sched_setaffinity) and
OMP/OPENBLAS/MKL/NUMBA thread counts are 1, XLA's CPU thread pools are 1, set before any import.
aeon's numba functions are compiled (and cached) on a tiny problem before timing; our JAX
programs compile inside the timed calls: "cold" includes compilation (new shapes per dataset),
"warm" repeats the same fit + predict with everything compiled.

--inception-epochs N > 0 also trains InceptionTime (research/models/inception_time.py) with a
minimal optax loop: Adam 1e-3, batches of min(64, N) examples, N epochs, cross-entropy, weights
of the last epoch, `--inception-members` networks from different seeds with averaged softmax
(the published recipe is 1500 epochs, reduce-on-plateau and 5 members: expect less here).

Prints a Markdown table. Published accuracies (same default splits where marked):
  InceptionTime: hfawaz/InceptionTime repository, results-InceptionTime-128.csv (UCR 2018 archive)
    and results-mts.csv (UEA), default split, 5-network ensemble (Ismail Fawaz et al. 2020).
  MiniRocket: angus924/minirocket repository, results/results_ucr109_mean.csv: mean accuracy over
    the default split and 29 resamples (Dempster et al. 2021), so not the default split alone.
"""

from __future__ import annotations

import os

os.environ.update({name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "NUMBA_NUM_THREADS")})
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402  (thread settings must precede the numeric imports)
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from research.heads import extra_trees, feature_maps_quant_hydra, minirocket, quant, ridge  # noqa: E402
from research.models import inception_time  # noqa: E402
from research.studies import published  # noqa: E402

LOADERS = {
    "BasicMotions": "load_basic_motions", "GunPoint": "load_gunpoint", "ArrowHead": "load_arrow_head",
    "ItalyPowerDemand": "load_italy_power_demand", "OSULeaf": "load_osuleaf", "ACSF1": "load_acsf1",
    "JapaneseVowels": "load_japanese_vowels", "PickupGestureWiimoteZ": "load_pickup_gesture_wiimoteZ",
}
PUBLISHED_INCEPTION = published.ACCURACY["inception_time"]
PUBLISHED_MINIROCKET = published.ACCURACY["minirocket"]


def load(name: str):
  """(x_train NTC, mask_train NT, y_train, x_test, mask_test, y_test), padded to one length."""
  from aeon import datasets
  splits = [getattr(datasets, LOADERS[name])(split=split) for split in ("train", "test")]
  steps = max(series.shape[-1] for x, _ in splits for series in x)
  classes = np.unique(np.concatenate([y for _, y in splits]))
  out = []
  for x, y in splits:
    n, channels = len(x), x[0].shape[0]
    x_NTC = np.zeros((n, steps, channels), np.float32)
    mask = np.zeros((n, steps), bool)
    for i, series in enumerate(x):
      x_NTC[i, :series.shape[-1]] = np.asarray(series, np.float32).T
      mask[i, :series.shape[-1]] = True
    out += [x_NTC, mask, np.searchsorted(classes, y)]
  return tuple(out) + (len(classes),)


def ours(x_train, mask_train, y_train, x_test, mask_test, classes, seed, features=None):
  """MiniRocket (10k features) + ridge with LOO alpha: test predictions, fit and predict seconds,
  and the compiled feature function (pass it back to time a warm run: `fit` is deterministic)."""
  started = time.perf_counter()
  params = minirocket.fit(x_train, mask_train, seed=seed)
  features = features or minirocket.batched(params)
  head = ridge.RidgeClassifierCV(num_classes=classes).fit(features(x_train, mask_train), y_train)
  fitted = time.perf_counter()
  predicted = head.predict(features(x_test, mask_test))
  return predicted, fitted - started, time.perf_counter() - fitted, features


def aeon_minirocket(x_train, y_train, x_test, seed):
  from aeon.classification.convolution_based import MiniRocketClassifier
  started = time.perf_counter()
  model = MiniRocketClassifier(random_state=seed, n_jobs=1).fit(x_train.transpose(0, 2, 1), y_train)
  fitted = time.perf_counter()
  predicted = model.predict(x_test.transpose(0, 2, 1))
  return predicted, fitted - started, time.perf_counter() - fitted


def inception(x_train, mask_train, y_train, x_test, mask_test, classes, epochs, members, seed):
  """Minimal InceptionTime training: Adam 1e-3, full passes in batches, last-epoch weights."""
  model = inception_time.InceptionTime(num_classes=classes)
  optimizer = optax.adam(1e-3)
  mask_train = np.ones(x_train.shape[:2], bool) if mask_train is None else mask_train
  x_train, mask_train, y_train = jnp.asarray(x_train), jnp.asarray(mask_train), jnp.asarray(y_train)
  n = len(x_train)
  batch = min(64, n)
  steps = -(-n // batch)

  def loss_fn(params, stats, x, m, y, w):
    logits, updates = model.apply({"params": params, "batch_stats": stats}, x, train=True, mask=m,
                                  mutable=["batch_stats"])
    losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    return (losses * w).sum() / w.sum(), updates["batch_stats"]

  def epoch(carry, key):
    params, stats, opt_state = carry
    slots = jax.random.permutation(key, steps * batch)  # slots >= n fill the last batch
    order, weight = slots % n, (slots < n).astype(np.float32)  # fillers: zero weight, no frames

    def step(carry, index):
      params, stats, opt_state = carry
      idx = jax.lax.dynamic_slice_in_dim(order, index * batch, batch)
      w = jax.lax.dynamic_slice_in_dim(weight, index * batch, batch)
      mask = mask_train[idx] & (w[:, None] > 0)  # BatchNorm statistics leave the fillers out
      (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
          params, stats, x_train[idx], mask, y_train[idx], w)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), stats, opt_state), loss

    return jax.lax.scan(step, (params, stats, opt_state), np.arange(steps))

  def train(key):
    init_key, key = jax.random.split(key)
    variables = model.init(init_key, x_train[:1], train=False)
    carry = (variables["params"], variables["batch_stats"], optimizer.init(variables["params"]))
    (params, stats, _), losses = jax.lax.scan(epoch, carry, jax.random.split(key, epochs))
    return params, stats, losses[-1].mean()

  started = time.perf_counter()
  # Members one after another: vmapping the convolutions over members makes XLA:CPU use grouped
  # convolutions, about 20x slower here (fine on accelerators).
  trained = [jax.jit(train)(key) for key in jax.random.split(jax.random.key(seed), members)]
  jax.block_until_ready(trained)
  fitted = time.perf_counter()
  predict = jax.jit(lambda p, s: jax.nn.softmax(
      model.apply({"params": p, "batch_stats": s}, x_test, train=False, mask=mask_test)))
  predicted = np.mean([np.asarray(predict(p, s)) for p, s, _ in trained], axis=0).argmax(1)
  return predicted, fitted - started, time.perf_counter() - fitted


def ours_quant(x_train, y_train, x_test, classes, seed, features=None):
  """QUANT + 200 extra trees: test predictions, fit and predict seconds, the compiled features."""
  started = time.perf_counter()
  features = features or quant.batched(quant.fit(x_train))
  head = extra_trees.ExtraTreesHead(num_classes=classes, seed=seed).fit(features(x_train), y_train)
  fitted = time.perf_counter()
  predicted = head.predict_proba(features(x_test)).argmax(1)
  return predicted, fitted - started, time.perf_counter() - fitted, features


def ours_multirocket_hydra(x_train, y_train, x_test, classes, seed):
  """MultiRocket-Hydra (scaled as aeon) + LOO ridge: test predictions, fit and predict seconds."""
  started = time.perf_counter()
  features = feature_maps_quant_hydra.MultiRocketHydra(seed=seed).fit({"x": x_train})
  head = ridge.RidgeClassifierCV(num_classes=classes, standardize=False).fit(
      features.transform({"x": x_train}), y_train)
  fitted = time.perf_counter()
  predicted = head.predict(features.transform({"x": x_test}))
  return predicted, fitted - started, time.perf_counter() - fitted


def aeon_classifier(name, x_train, y_train, x_test, seed):
  """aeon's QUANTClassifier or MultiRocketHydraClassifier: predictions, fit and predict seconds."""
  if name == "quant":
    from aeon.classification.interval_based import QUANTClassifier
    model = QUANTClassifier(random_state=seed)
  else:
    from aeon.classification.convolution_based import MultiRocketHydraClassifier
    model = MultiRocketHydraClassifier(random_state=seed, n_jobs=1)
  started = time.perf_counter()
  model.fit(x_train.transpose(0, 2, 1), y_train)
  fitted = time.perf_counter()
  predicted = model.predict(x_test.transpose(0, 2, 1))
  return predicted, fitted - started, time.perf_counter() - fitted


def _accuracy_cell(accuracies) -> str:
  return f"{np.mean(accuracies):.4f} ({min(accuracies):.3f}-{max(accuracies):.3f})"


def compare(method: str, names, seeds: int) -> None:
  """Prints the table of ours against aeon for `method` (quant | multirocket_hydra)."""
  import torch
  torch.set_num_threads(1)
  warm = load("ItalyPowerDemand")
  aeon_classifier(method, warm[0][:20], warm[2][:20], warm[3][:20], 0)  # numba and torch warm-up
  timing = "ours fit+predict s (cold / warm)"
  header = ["dataset", "train/test, C x T", f"ours acc, {seeds} seeds", timing,
            f"aeon acc, {seeds} seeds", "aeon fit+predict s", "same seed agree"]
  rows = []
  for name in names:
    x_tr, m_tr, y_tr, x_te, m_te, y_te, classes = load(name)
    unequal = not (m_tr.all() and m_te.all())
    shortest = min(m_tr.sum(1).min(), m_te.sum(1).min()) if unequal else x_tr.shape[1]
    ours_acc, ours_times, aeon_acc, aeon_times, agree = [], [], [], [], []
    features = None
    for seed in range(seeds):
      if method == "quant":
        predicted, fit_s, predict_s, features = ours_quant(x_tr, y_tr, x_te, classes, seed, features)
      else:
        predicted, fit_s, predict_s = ours_multirocket_hydra(x_tr, y_tr, x_te, classes, seed)
      theirs, aeon_fit_s, aeon_predict_s = aeon_classifier(method, x_tr, y_tr, x_te, seed)
      ours_acc.append(np.mean(predicted == y_te))
      aeon_acc.append(np.mean(theirs == y_te))
      agree.append(np.mean(predicted == theirs))
      ours_times.append(fit_s + predict_s)
      aeon_times.append(aeon_fit_s + aeon_predict_s)
    warm_cell = f"{np.mean(ours_times[1:]):.1f}" if seeds > 1 else "-"
    row = [name, f"{len(x_tr)}/{len(x_te)}, {x_tr.shape[2]} x " + (f"{shortest}-{x_tr.shape[1]}" if unequal
                                                                     else str(x_tr.shape[1])),
           _accuracy_cell(ours_acc), f"{ours_times[0]:.1f} / {warm_cell}", _accuracy_cell(aeon_acc),
           f"{np.mean(aeon_times):.1f}",
           f"{np.mean(agree):.3f}"]
    rows.append(row)
    print(" | ".join(row), flush=True)
  print()
  print(f"{method}: ours vs aeon (one pinned core; unequal lengths zero-padded for both)")
  print("| " + " | ".join(header) + " |")
  print("|" + "---|" * len(header))
  for row in rows:
    print("| " + " | ".join(row) + " |")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--datasets", default=",".join(LOADERS), help=f"comma-separated, from {list(LOADERS)}")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--inception-epochs", type=int, default=0, help="0: skip InceptionTime")
  parser.add_argument("--inception-members", type=int, default=1)
  parser.add_argument("--methods", default="minirocket",
                      help="comma-separated: minirocket (with InceptionTime), quant, multirocket_hydra")
  parser.add_argument("--seeds", type=int, default=3, help="quant / multirocket_hydra: seeds 0..S-1")
  args = parser.parse_args()
  names = args.datasets.split(",")
  unknown = sorted(set(names) - set(LOADERS))
  if unknown:
    raise SystemExit(f"--datasets: unknown {unknown}; choose from {list(LOADERS)}")
  methods = args.methods.split(",")
  if set(methods) - {"minirocket", "quant", "multirocket_hydra"}:
    raise SystemExit(f"--methods: unknown {sorted(set(methods) - {'minirocket', 'quant', 'multirocket_hydra'})}")
  for method in methods:
    if method != "minirocket":
      compare(method, names, args.seeds)
  if "minirocket" not in methods:
    return
  for warm in ("ItalyPowerDemand", "BasicMotions"):  # compile aeon's numba functions, uni- and multivariate
    data = load(warm)
    aeon_minirocket(data[0][:20], data[2][:20], data[3][:20], args.seed)

  header = ["dataset", "train/test, C x T", "ours acc", "ours fit+predict s (cold / warm)",
            "ours, padded acc", "aeon acc", "aeon fit+predict s"]
  if args.inception_epochs:
    header += [f"InceptionTime x{args.inception_members}, {args.inception_epochs} ep acc", "its fit s"]
  header += ["published InceptionTime", "published MiniRocket (30 resamples)"]
  rows = []
  for name in names:
    x_tr, m_tr, y_tr, x_te, m_te, y_te, classes = load(name)
    unequal = not (m_tr.all() and m_te.all())
    if not unequal:
      m_tr = m_te = None  # no mask: the positions read are compile-time constants
    cold = ours(x_tr, m_tr, y_tr, x_te, m_te, classes, args.seed)
    again = ours(x_tr, m_tr, y_tr, x_te, m_te, classes, args.seed, features=cold[3])
    assert np.array_equal(again[0], cold[0])
    padded = ours(x_tr, None, y_tr, x_te, None, classes, args.seed)[0] if unequal else cold[0]
    theirs = aeon_minirocket(x_tr, y_tr, x_te, args.seed)
    shortest = min(m_tr.sum(1).min(), m_te.sum(1).min()) if unequal else x_tr.shape[1]
    length = f"{shortest}-{x_tr.shape[1]}" if unequal else str(x_tr.shape[1])
    row = [name, f"{len(x_tr)}/{len(x_te)}, {x_tr.shape[2]} x {length}",
           f"{np.mean(cold[0] == y_te):.4f}", f"{cold[1] + cold[2]:.2f} / {again[1] + again[2]:.2f}",
           f"{np.mean(padded == y_te):.4f}" if unequal else "same",
           f"{np.mean(theirs[0] == y_te):.4f}", f"{theirs[1] + theirs[2]:.2f}"]
    if args.inception_epochs:
      net = inception(x_tr, m_tr, y_tr, x_te, m_te, classes, args.inception_epochs,
                      args.inception_members, args.seed)
      row += [f"{np.mean(net[0] == y_te):.4f}", f"{net[1]:.0f}"]
    row += [str(PUBLISHED_INCEPTION.get(name, "")), str(PUBLISHED_MINIROCKET.get(name, ""))]
    rows.append(row)
    print(" | ".join(row), flush=True)
  print()
  print("| " + " | ".join(header) + " |")
  print("|" + "---|" * len(header))
  for row in rows:
    print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
  main()

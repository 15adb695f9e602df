"""What the data cache saves, and what a TFDS array_record cache would cost instead.

  python benchmarks/data_cache.py [--repeat 2]

Measures at the configs' default sizes, best of --repeat:
  * keypoints (sign_lstm: 10 signs x 30 sequences x 30 frames = 9,000 .npy files): parsing the
    folder, the cache's digest of the files' bytes + .npz read, and an array_record read;
  * workout (tcn: 14 synthetic sessions): cutting windows from the recordings vs reading the
    windows back from array_record;
  * HHT (cnn_svm: 2,048-sample signals, 256 x 256): computing one image vs a cache hit.
The array_record rows need tensorflow-datasets (`pip install -e ".[bench]"`); without it they
are left out.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from research import config_file  # noqa: E402
from research.data import hht, hht_inputs, layouts, loaders, sequences, sources  # noqa: E402
from research.data.formats import keypoints  # noqa: E402
from research.data.synthetic import hht as synthetic_hht  # noqa: E402
from research.data.synthetic import keypoints as synthetic_keypoints  # noqa: E402
from research.data.synthetic import workout as synthetic_workout  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def best(fn, repeat: int) -> float:
  times = []
  for _ in range(repeat):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return min(times)


def array_record_round_trip(splits: dict, folder: pathlib.Path, repeat: int) -> dict | None:
  """Seconds to import tensorflow_datasets, build an array_record dataset of `splits`, read it back."""
  start = time.perf_counter()
  try:
    import tensorflow_datasets as tfds
  except ImportError:
    return None
  seconds = {"import_s": time.perf_counter() - start}
  first = next(iter(splits.values()))
  features = tfds.features.FeaturesDict({
      key: tfds.features.Tensor(shape=value.shape[1:], dtype=value.dtype) for key, value in first.items()})

  class Arrays(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(builder=self, features=features, disable_shuffling=True)

    def _split_generators(self, dl_manager):
      return {name: self._generate_examples(name) for name in splits}

    def _generate_examples(self, name):
      for i in range(len(splits[name][next(iter(first))])):
        yield i, {key: value[i] for key, value in splits[name].items()}

  builder = Arrays(data_dir=str(folder), file_format="array_record")
  seconds["build_s"] = best(builder.download_and_prepare, 1)

  def read():
    for name in splits:
      source = builder.as_data_source(split=name)
      records = source.__getitems__(list(range(len(source))))
      {key: np.stack([r[key] for r in records]) for key in first}

  seconds["read_s"] = best(read, repeat)
  return seconds


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--repeat", type=int, default=2)
  args = parser.parse_args(argv)
  work = pathlib.Path(tempfile.mkdtemp(prefix="data-cache-bench-"))
  out: dict = {}
  try:
    kp = work / "keypoints"
    out["keypoints_generate_s"] = best(lambda: synthetic_keypoints.generate(kp), 1)
    out["keypoints_read_folder_s"] = best(lambda: keypoints.read_folder(kp, layouts.SIGN_ACTIONS, 30),
                                          args.repeat)
    paths = lambda: [p for a in layouts.SIGN_ACTIONS for p in sorted((kp / a).rglob("*"))]
    out["keypoints_digest_s"] = best(lambda: sources.content_digest(paths(), kp), args.repeat)
    loaders.read_keypoints_cached(kp, layouts.SIGN_ACTIONS, 30, work / "cache")
    out["keypoints_cache_hit_s"] = best(
        lambda: loaders.read_keypoints_cached(kp, layouts.SIGN_ACTIONS, 30, work / "cache"), args.repeat)
    sequences_list, y, _, _ = keypoints.read_folder(kp, layouts.SIGN_ACTIONS, 30)
    x, _ = sequences.pad(sequences_list)
    out["keypoints_array_MB"] = x.nbytes / 1e6
    record = array_record_round_trip({"train": {"x": x, "y": y}}, work / "tfds_kp", args.repeat)
    if record:
      out.update({f"keypoints_array_record_{k}": v for k, v in record.items()})

    config = config_file.load(ROOT / "configs" / "tcn.py")
    options = config.data.synthetic.to_dict()
    out["workout_generate_s"] = best(lambda: synthetic_workout.generate(str(work / "workout"), **options), 1)
    config.data.path = str(work / "workout")
    dataset = loaders.load_workout(config.data, 0)
    out["workout_windows_s"] = best(lambda: loaders.load_workout(config.data, 0), args.repeat)
    splits = {name: {k: v for k, v in dataset.split(name).items()} for name in ("train", "val", "test")}
    out["workout_windows_MB"] = sum(v.nbytes for s in splits.values() for v in s.values()) / 1e6
    record = array_record_round_trip(splits, work / "tfds_workout", args.repeat)
    if record:
      out.update({f"workout_array_record_{k}": v for k, v in record.items()})

    rng = np.random.default_rng(0)
    signals = [synthetic_hht.synthetic_signal(i % 6, rng) for i in range(6)]
    settings = hht.HHTSettings()
    out["hht_image_s"] = best(lambda: [hht.hht_image(s, 1000.0, settings) for s in signals], 1) / len(signals)
    files = []
    for i, s in enumerate(signals):
      files.append(work / "hht" / f"BICEPS_half_M_{i:03d}.npz")
      files[-1].parent.mkdir(exist_ok=True)
      np.savez(files[-1], signal=s, fs=1000.0)
    read = lambda: [hht_inputs.cached_hht_image(p, np.load(p)["signal"], 1000.0, settings, work / "cache") for p in files]
    read()
    out["hht_cache_hit_s"] = best(read, args.repeat) / len(files)
  finally:
    shutil.rmtree(work, ignore_errors=True)
  print(json.dumps({k: round(v, 4) for k, v in out.items()}, indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main())

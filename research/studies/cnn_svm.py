"""The HHT CNN + SVM system: encoder training, the head on frozen features, checkpoints, prediction.

`train(config, workdir, resume)`:
  1. The encoder with its softmax head is trained by the engine (`research.train.fit`;
     its Orbax state in workdir/checkpoints resumes exactly), unless
     config.head.train_encoder is False (the random encoder, seed config.seed).
  2. For the `latest` epoch and the best (`final`) epoch: 256-d encoder features of
     the train split -> StandardScaler + SVM (or forest) -> validation report.
  3. workdir/cnn_svm/{latest,final}/ each hold encoder/ (Orbax), head.npz + head.json
     (fitted arrays, no pickle) and metadata.json (epoch, history, class map, config,
     SHA-256 of every file). `final` predicts the held-out 'test' files into
     workdir/test_predictions.json.

`load_checkpoint(path)` rebuilds a predictor from one such folder, refusing edited
files; `predict_files` is what launch/predict.py calls for these workdirs.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import json
import pathlib
import shutil
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from research.data import hht_files
from research.data import load_dataset
from research.evaluation import classification as classification_report
from research.heads import persist
from research.heads import svm as svm_head
from research.models import build_model
from research.train import TrainingError, fit, load_run
from research.train import records

CHECKPOINTS = "cnn_svm"  # workdir/cnn_svm/{latest,final}
FORMAT = "research.cnn_svm"
FORMAT_VERSION = 1
# Config groups a checkpoint belongs to; resuming with others changed is refused.
IDENTITY_GROUPS = ("data", "model", "task", "head")


def _config_json(config) -> dict:
  return json.loads(config.to_json_best_effort())


@functools.partial(jax.jit, static_argnums=0)
def _encode(model, params, x_NHWC):
  return model.apply({"params": params}, x_NHWC, train=False, method="encode")


def encoder_features(model, params, x_NHWC: np.ndarray, batch_size: int) -> np.ndarray:
  """The encoder's features (N, D) in fixed-size batches (the last padded), float64."""
  n = len(x_NHWC)
  out = []
  for start in range(0, n, batch_size):
    chunk = x_NHWC[start:start + batch_size]
    pad = batch_size - len(chunk)
    if pad:
      chunk = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:], chunk.dtype)])
    out.append(_encode(model, params, jnp.asarray(chunk))[:batch_size - pad])
  width = model.features[-1]
  return np.asarray(jax.device_get(jnp.concatenate(out)), np.float64) if out else np.zeros((0, width))


def _tree_sha256(directory: pathlib.Path) -> str:
  """SHA-256 over every file (relative path and bytes) under `directory`."""
  digest = hashlib.sha256()
  for path in sorted(p for p in directory.rglob("*") if p.is_file()):
    digest.update(str(path.relative_to(directory)).encode())
    digest.update(path.read_bytes())
  return digest.hexdigest()


@dataclasses.dataclass
class Predictor:
  """A loaded checkpoint: encoder + head + the settings that made its inputs."""
  config: ml_collections.ConfigDict
  metadata: dict[str, Any]
  model: Any
  params: Any
  head: svm_head.FeatureHead

  @property
  def class_names(self) -> list[str]:
    return list(self.metadata["class_names"])

  def features(self, x_NHWC, batch_size: int = 32) -> np.ndarray:
    return encoder_features(self.model, self.params, x_NHWC, batch_size)

  def predict_proba(self, x_NHWC, batch_size: int = 32) -> np.ndarray:
    return self.head.predict_proba(self.features(x_NHWC, batch_size))


def save_checkpoint(directory, *, config, params, head: svm_head.FeatureHead, meta: dict,
                    epoch: int, history: list, extra: dict) -> pathlib.Path:
  """Writes one checkpoint folder (encoder/, head.*, metadata.json); replaces an old one whole."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top

  directory = pathlib.Path(directory).absolute()
  tmp = directory.with_name(f".{directory.name}.tmp")
  shutil.rmtree(tmp, ignore_errors=True)
  tmp.mkdir(parents=True)
  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(tmp / "encoder", {"params": params})
  checkpointer.wait_until_finished()
  files = head.save(tmp)
  class_names = list(meta["class_names"])
  metadata = {
      "format": FORMAT, "format_version": FORMAT_VERSION,
      "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "epoch": int(epoch), "history": history,
      "class_names": class_names, "class_map": {str(i): n for i, n in enumerate(class_names)},
      "input_shape": list(meta["input_shape"]),
      "config": _config_json(config),
      "sha256": {**files, "encoder": _tree_sha256(tmp / "encoder")},
      **extra,
  }
  records.write_json_atomic(tmp / "metadata.json", metadata)
  if directory.exists():
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old)
  else:
    tmp.rename(directory)
  return directory


def resolve_checkpoint(path) -> pathlib.Path:
  """A checkpoint folder from a workdir (-> its cnn_svm/final) or the folder itself."""
  path = pathlib.Path(path)
  for candidate in (path, path / CHECKPOINTS / "final"):
    if (candidate / "metadata.json").exists() and (candidate / "head.json").exists():
      return candidate
  raise FileNotFoundError(f"{path}: no CNN-SVM checkpoint here (expected {path}/metadata.json or "
                          f"{path}/{CHECKPOINTS}/final/metadata.json); train with launch/cnn_svm.py")


def is_checkpoint(path) -> bool:
  try:
    resolve_checkpoint(path)
    return True
  except FileNotFoundError:
    return False


def load_checkpoint(path) -> Predictor:
  """Rebuilds the predictor of a checkpoint folder (or a workdir's final one).

  Every file's SHA-256 must match metadata.json; the head is rebuilt from arrays.
  """
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top

  directory = resolve_checkpoint(path).absolute()
  metadata = records.read_json(directory / "metadata.json")
  if metadata.get("format") != FORMAT or metadata.get("format_version") != FORMAT_VERSION:
    raise persist.TamperedFileError(f"{directory}/metadata.json: format {metadata.get('format')!r} "
                                    f"v{metadata.get('format_version')}; expected {FORMAT!r} v{FORMAT_VERSION}")
  expected = metadata.get("sha256", {})
  found = {name: persist.sha256_file(directory / name) for name in ("head.npz", "head.json")}
  found["encoder"] = _tree_sha256(directory / "encoder")
  changed = [name for name in found if expected.get(name) != found[name]]
  if changed:
    raise persist.TamperedFileError(f"{directory}: {changed} do not match the SHA-256 in metadata.json; "
                                    "the checkpoint changed after it was saved. Refusing to load it.")
  config = ml_collections.ConfigDict(metadata["config"])
  model = build_model(config.model, {"class_names": metadata["class_names"]})
  example = jnp.zeros([1] + metadata["input_shape"], jnp.float32)
  abstract = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), example, train=False))
  try:
    restored = ocp.StandardCheckpointer().restore(directory / "encoder", {"params": abstract["params"]})
  except (ValueError, KeyError) as error:
    raise ValueError(f"{directory}/encoder does not fit the model its metadata.json describes "
                     f"({config.model.to_dict()}): {error}") from error
  head = svm_head.load_head(directory)
  return Predictor(config=config, metadata=metadata, model=model, params=restored["params"], head=head)


def check_resume(workdir: pathlib.Path, config) -> None:
  """Refuses to resume a workdir whose checkpoint has other data/model/task/head settings."""
  path = workdir / CHECKPOINTS / "latest" / "metadata.json"
  if not path.exists():
    return
  old, new = records.read_json(path)["config"], _config_json(config)
  diffs = [f"{g}.{k}: {old.get(g, {}).get(k)!r} -> {new.get(g, {}).get(k)!r}"
           for g in IDENTITY_GROUPS for k in sorted(set(old.get(g, {})) | set(new.get(g, {})))
           if old.get(g, {}).get(k) != new.get(g, {}).get(k)]
  if diffs:
    raise TrainingError(f"{path} was written by another config ({'; '.join(diffs)}); --resume only "
                        "continues the same data/model/task/head. Choose a new --workdir or restore them.")


def _head(config) -> svm_head.FeatureHead:
  h = config.head
  return svm_head.FeatureHead(kind=h.kind, num_classes=len(hht_files.CLASS_NAMES), C=h.C, gamma=h.gamma,
                              calibration_folds=h.calibration_folds, n_estimators=h.n_estimators,
                              seed=config.seed)


def _encoders(config, dataset, workdir: pathlib.Path):
  """[(name, params, epoch)] for 'latest' and 'final', and the training history."""
  if not config.head.train_encoder:
    meta = {**dataset.meta}
    model = build_model(config.model, meta)
    params = model.init(jax.random.PRNGKey(config.seed), dataset.train["x"][:1], train=False)["params"]
    return [("latest", params, 0), ("final", params, 0)], []
  fit(config, dataset, workdir)
  history = records.read_history(workdir / "history.jsonl")
  latest, best = history[-1]["epoch"], records.best_row(history)["epoch"]
  final_params = load_run(workdir).variables["params"]
  latest_params = final_params if latest == best else load_run(workdir, best=False).variables["params"]
  return [("latest", latest_params, latest), ("final", final_params, best)], history


def prediction_rows(files, probs_NC, class_names) -> list[dict]:
  rows = []
  for name, p in zip(files, probs_NC):
    best = int(np.argmax(p))
    rows.append({"file": name, "prediction": class_names[best], "class_id": best,
                 "confidence": float(p[best]),
                 "probabilities": {c: float(v) for c, v in zip(class_names, p)}})
  return rows


def train(config, workdir, resume: bool = False) -> dict:
  """Trains encoder and head in `workdir`; returns a summary (also in cnn_svm/final/metadata.json)."""
  workdir = pathlib.Path(workdir)
  if not resume and ((workdir / "checkpoints").exists() or (workdir / CHECKPOINTS).exists()):
    raise TrainingError(f"{workdir} already holds a run; pass --resume to continue its encoder training "
                        "from the latest checkpoint, or choose a new --workdir.")
  check_resume(workdir, config)
  dataset = load_dataset(config)
  workdir.mkdir(parents=True, exist_ok=True)
  if not config.head.train_encoder:
    records.write_json_atomic(workdir / "config.json", _config_json(config))
  meta = {**dataset.meta, "input_shape": list(dataset.train["x"].shape[1:])}
  class_names = list(meta["class_names"])
  model = build_model(config.model, meta)
  batch = config.train.eval_batch_size
  summary: dict[str, Any] = {"workdir": str(workdir)}
  encoders, history = _encoders(config, dataset, workdir)
  fitted = {}  # id(params) -> (features, head): 'latest' is 'final' when the last epoch was the best.
  for name, params, epoch in encoders:
    if id(params) not in fitted:
      feats = {split: encoder_features(model, params, dataset.split(split)["x"], batch)
               for split in ("train", "val", "test")}
      fitted[id(params)] = feats, _head(config).fit(feats["train"], dataset.train["y"])
    feats, head = fitted[id(params)]
    val_probs = head.predict_proba(feats["val"]) if len(feats["val"]) else np.zeros((0, len(class_names)))
    extra = {"encoder": "trained" if config.head.train_encoder else f"untrained (random init, seed {config.seed})",
             "train_accuracy": float(np.mean(head.predict(feats["train"]) == dataset.train["y"])),
             "val_accuracy": float(np.mean(val_probs.argmax(1) == dataset.val["y"])) if len(val_probs) else None,
             "sizes": dataset.sizes(), "skipped": meta["skipped"]}
    save_checkpoint(workdir / CHECKPOINTS / name, config=config, params=params, head=head, meta=meta,
                    epoch=epoch, history=history, extra=extra)
    summary[name] = {"epoch": epoch, **{k: extra[k] for k in ("train_accuracy", "val_accuracy")}}
    if name != "final":
      continue
    if len(val_probs):
      result, markdown = classification_report.report(
          split=dataset.val, predictions={"probs": val_probs}, meta=meta, history=history,
          val_metrics={}, plots_dir=workdir / "svm_plots", split_name="val")
      result = {**result, "head": head.settings(), "encoder": extra["encoder"], "epoch": epoch}
      records.write_json_atomic(workdir / "svm_report.json", result)
      records.write_text_atomic(workdir / "svm_report.md",
                                f"# {head.kind.upper()} on {extra['encoder']} CNN features\n\n" + markdown)
    test_rows = prediction_rows(meta["test_files"], head.predict_proba(feats["test"]), class_names)
    # Not sorted: probabilities stay in class-id order.
    records.write_text_atomic(workdir / "test_predictions.json", json.dumps(
        {"checkpoint": str(workdir / CHECKPOINTS / "final"), "predictions": test_rows}, indent=2) + "\n")
    summary["test_predictions"] = len(test_rows)
  return summary


def read_input_paths(input_path) -> list[pathlib.Path]:
  path = pathlib.Path(input_path)
  if path.is_file():
    return [path]
  if path.is_dir():
    paths = sorted(p for p in path.iterdir() if p.suffix.lower() == ".npz" and p.is_file())
    if not paths:
      raise FileNotFoundError(f"{hht_files.NO_FILES} in {str(path)!r}")
    return paths
  raise FileNotFoundError(f"--input {str(path)!r} is neither a .npz file nor a folder")


def predict_files(checkpoint_path, input_path, batch_size: int = 32) -> list[dict]:
  """Per input file: predicted class, confidence and all class probabilities."""
  predictor = load_checkpoint(checkpoint_path)
  paths = read_input_paths(input_path)
  x = hht_files.read_inputs(paths, predictor.config.data)
  probs = predictor.predict_proba(x, batch_size)
  return prediction_rows([p.name for p in paths], probs, predictor.class_names)


def format_single(row: dict) -> str:
  """The seed's printout for one file."""
  lines = [f"Prediction: {row['prediction']}", f"Confidence: {row['confidence']:.4f}", "",
           "Class probabilities:"]
  lines += [f"  {name}: {p:.4f}" for name, p in row["probabilities"].items()]
  return "\n".join(lines)

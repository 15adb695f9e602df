"""Training over a device mesh (forced host devices) against the same training on one device.

The many-device side runs in a subprocess (tests/train/mesh_checks.py): the device count must
be fixed before JAX starts. The reference is computed here, on one device.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

import mesh_checks

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _env(devices: int) -> dict:
  """A subprocess's environment with `devices` forced host devices; the tests' compilation cache is
  shared (the runs-axis and resume checks compile the same programs; its keys include the devices)."""
  return {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", "PYTHONPATH": str(ROOT)}


def _on_devices(name: str, out: pathlib.Path, devices: int = 4) -> dict:
  done = subprocess.run([sys.executable, str(pathlib.Path(__file__).with_name("mesh_checks.py")), name, str(out)],
                        env=_env(devices), capture_output=True, text=True, timeout=900)
  assert done.returncode == 0, done.stderr[-3000:]
  assert json.loads((out / f"{name}.json").read_text())["devices"] == devices
  return dict(np.load(out / f"{name}.npz"))


def _assert_close(found: dict, expected: dict) -> None:
  assert sorted(found) == sorted(expected)
  for key in expected:
    np.testing.assert_allclose(found[key], expected[key], rtol=2e-5, atol=2e-6, err_msg=key)


@pytest.fixture(scope="module")
def runs_on_one_device() -> dict:
  """The runs-axis study trained on one device: the reference of the runs-axis tests (computed once)."""
  return mesh_checks.flatten(mesh_checks.runs_axis(devices=1))


@pytest.fixture(scope="module")
def data_run_on_one_device() -> dict:
  """The data-axis run trained on one device: the reference of the data-axis tests (computed once)."""
  return mesh_checks.flatten(mesh_checks.data_axis(devices=1))


@pytest.mark.slow
def test_runs_axis_on_four_devices_equals_one_device(tmp_path, runs_on_one_device):
  """3 runs with their own data on 4 devices (one padded, inactive run): run by run as on one device."""
  found = _on_devices("runs", tmp_path)
  _assert_close(found, runs_on_one_device)
  assert len({int(found[f"{r}/stopped_epoch"]) for r in range(3)}) > 1  # runs stopped on their own


@pytest.mark.slow
def test_data_axis_on_four_devices_equals_one_device(tmp_path, data_run_on_one_device):
  """One run, each batch split over 4 devices (BatchNorm statistics and gradients summed over them)."""
  _assert_close(_on_devices("data", tmp_path), data_run_on_one_device)


@pytest.mark.slow
def test_resumed_sharded_study_equals_an_uninterrupted_one(tmp_path, runs_on_one_device):
  """Stopped after 2 of 4 epochs on 4 devices and resumed there, or resumed on one device."""
  _assert_close(_on_devices("resume", tmp_path), runs_on_one_device)
  on_one_device = mesh_checks.runs_axis(tmp_path / "at_epoch_2", devices=1)
  _assert_close(mesh_checks.flatten(on_one_device), runs_on_one_device)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def _assert_json_close(found, expected, where="report"):
  if isinstance(expected, dict):
    assert sorted(found) == sorted(expected), where
    for key in expected:
      _assert_json_close(found[key], expected[key], f"{where}.{key}")
  elif isinstance(expected, list):
    assert len(found) == len(expected), where
    for i, (a, b) in enumerate(zip(found, expected)):
      _assert_json_close(a, b, f"{where}[{i}]")
  elif isinstance(expected, float):
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-6, err_msg=where)
  else:
    assert found == expected, where


@pytest.mark.slow
def test_two_processes_with_two_devices_each_equal_one_process(tmp_path, data_run_on_one_device):
  """jax.distributed on localhost (gloo CPU collectives): a CV on the runs axis over 4 devices of 2
  processes, and a data-parallel run, give the one-device results; only process 0 writes reports."""
  reference = tmp_path / "reference"
  mesh_checks.cross_validation(reference, devices=1)
  expected_data = data_run_on_one_device
  out = tmp_path / "distributed"
  port = _free_port()
  processes = [subprocess.Popen(
      [sys.executable, str(pathlib.Path(__file__).with_name("mesh_checks.py")), "distributed", str(out)],
      env={**_env(2), "JAX_COORDINATOR_ADDRESS": f"localhost:{port}", "JAX_NUM_PROCESSES": "2",
           "JAX_PROCESS_ID": str(i)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
      for i in range(2)]
  logs = [p.communicate(timeout=900)[0] for p in processes]
  assert [p.returncode for p in processes] == [0, 0], "\n\n".join(log[-3000:] for log in logs)
  info = [json.loads((out / f"process_{i}.json").read_text()) for i in range(2)]
  assert [(i["processes"], i["devices"], i["local_devices"]) for i in info] == [(2, 4, 2)] * 2
  load = lambda folder: json.loads((folder / "cv_report.json").read_text())
  _assert_json_close(load(out / "cv"), load(reference))
  for i in range(2):
    _assert_close(dict(np.load(out / f"data_{i}.npz")), expected_data)
  outside_checkpoints = lambda i: [p for p in info[i]["renamed"] if "/checkpoints/" not in p]
  assert any(p.endswith("cv_report.json") for p in outside_checkpoints(0))
  assert outside_checkpoints(1) == []  # process 1 wrote no report, plot or JSON


AUTO_AXIS = """
import ml_collections
from research.train import mesh
config = ml_collections.ConfigDict({"mesh": {"axis": "auto"}})
for runs, batches in ((3, (8, 16)), (1, (8, 16)), (1, (6, 16))):
  m = mesh.build(config, runs, batches)
  print(m.axis_names[0], m.size)
"""


def test_auto_axis_spreads_runs_splits_one_runs_batches_or_keeps_one_device():
  done = subprocess.run([sys.executable, "-c", AUTO_AXIS], env=_env(4), capture_output=True, text=True,
                        timeout=120)
  assert done.returncode == 0, done.stderr[-2000:]
  assert done.stdout.split("\n")[:3] == ["runs 4", "data 4", "runs 1"]

"""Training over a device mesh (forced host devices) against the same training on one device.

The many-device side runs in a subprocess (tests/mesh_checks.py): the device count must
be fixed before JAX starts. The reference is computed here, on one device.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np

import mesh_checks

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _env(devices: int) -> dict:
  return {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
          "PYTHONPATH": str(ROOT), "RESEARCH_JAX_CACHE": "off"}


def _on_devices(name: str, out: pathlib.Path, devices: int = 4) -> dict:
  done = subprocess.run([sys.executable, str(ROOT / "tests" / "mesh_checks.py"), name, str(out)],
                        env=_env(devices), capture_output=True, text=True, timeout=900)
  assert done.returncode == 0, done.stderr[-3000:]
  assert json.loads((out / f"{name}.json").read_text())["devices"] == devices
  return dict(np.load(out / f"{name}.npz"))


def _assert_close(found: dict, expected: dict) -> None:
  assert sorted(found) == sorted(expected)
  for key in expected:
    np.testing.assert_allclose(found[key], expected[key], rtol=2e-5, atol=2e-6, err_msg=key)


def test_runs_axis_on_four_devices_equals_one_device(tmp_path):
  """3 runs with their own data on 4 devices (one padded, inactive run): run by run as on one device."""
  expected = mesh_checks.flatten(mesh_checks.runs_axis(devices=1))
  found = _on_devices("runs", tmp_path)
  _assert_close(found, expected)
  assert len({int(found[f"{r}/stopped_epoch"]) for r in range(3)}) > 1  # runs stopped on their own


def test_data_axis_on_four_devices_equals_one_device(tmp_path):
  """One run, each batch split over 4 devices (BatchNorm statistics and gradients summed over them)."""
  _assert_close(_on_devices("data", tmp_path), mesh_checks.flatten(mesh_checks.data_axis(devices=1)))


def test_resumed_sharded_study_equals_an_uninterrupted_one(tmp_path):
  """Stopped after 2 of 4 epochs on 4 devices and resumed there, or resumed on one device."""
  expected = mesh_checks.flatten(mesh_checks.runs_axis(devices=1))
  _assert_close(_on_devices("resume", tmp_path), expected)
  on_one_device = mesh_checks.runs_axis(tmp_path / "at_epoch_2", devices=1)
  _assert_close(mesh_checks.flatten(on_one_device), expected)

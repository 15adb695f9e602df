"""Many processes (hosts) as one JAX program: start-up, who writes files, arrays between host and mesh.

Every process runs the same command. `initialize(config)` joins them with
`jax.distributed.initialize` when a coordinator is configured
(config.mesh.coordinator, else $JAX_COORDINATOR_ADDRESS; with $JAX_NUM_PROCESSES
and $JAX_PROCESS_ID, or "auto" for JAX's own detection on a TPU slice, SLURM or
Open MPI); without one the program is a single process, as before. Afterwards
`jax.devices()` lists every process's devices and research.train.mesh spans them.
`mesh_settings(config)` reads config.mesh over its defaults (for this module and the mesh).

Files: checkpoints are written by every process together (Orbax); reports,
plots, JSON and histories by process 0 only (`is_writer`).
"""

from __future__ import annotations

import os

import jax
import ml_collections
import numpy as np

from research import config_defaults
from research.errors import ResearchError


class DistributedError(ResearchError):
  """A multi-process start that cannot work; the message names the setting and the fix."""


class MeshError(ResearchError):
  """A `config.mesh` no machine here can give; the message names the field and the fix."""


def mesh_settings(config) -> ml_collections.ConfigDict:
  """config.mesh over the defaults (a config need not have the group, nor every field)."""
  given = config.get("mesh") if config is not None else None
  given = given.to_dict() if hasattr(given, "to_dict") else dict(given or {})
  try:
    return config_defaults.mesh(**given)
  except ValueError as error:
    raise MeshError(f"{error}. Remove the unknown field(s) from config.mesh.") from error


def _setting(cfg, field: str, env: str, unset):
  value = cfg[field]
  if value != unset:
    return value
  text = os.environ.get(env, "").strip()
  if not text:
    return None
  if isinstance(unset, str):
    return text
  try:
    return int(text)
  except ValueError as error:
    raise DistributedError(f"${env} is {text!r}; it must be an integer.") from error


def initialize(config=None) -> bool:
  """Joins the processes of a multi-host run; returns whether this is one (False: single process).

  Call before anything touches a device. Calling again is harmless.
  """
  if jax.distributed.is_initialized():
    return True
  cfg = mesh_settings(config)
  coordinator = _setting(cfg, "coordinator", "JAX_COORDINATOR_ADDRESS", "")
  if coordinator is None:
    return False
  count = _setting(cfg, "num_processes", "JAX_NUM_PROCESSES", 0)
  index = _setting(cfg, "process_id", "JAX_PROCESS_ID", -1)
  if coordinator == "auto":  # JAX reads the cluster (TPU metadata, SLURM_*, OMPI_*) for what is unset.
    jax.distributed.initialize(num_processes=count, process_id=index)
    return True
  if count is None or index is None:
    raise DistributedError(
        f"a coordinator ({coordinator}) is set but not "
        f"{'the number of processes' if count is None else 'this process id'}: set $JAX_NUM_PROCESSES and "
        "$JAX_PROCESS_ID (or --config.mesh.num_processes / --config.mesh.process_id) on every host, or "
        "--config.mesh.coordinator=auto on a TPU slice or under SLURM.")
  if not 0 <= index < count:
    raise DistributedError(f"process id {index} is outside 0..{count - 1} (config.mesh.process_id / "
                           "$JAX_PROCESS_ID); number the processes 0, 1, ... N-1.")
  jax.distributed.initialize(coordinator_address=coordinator, num_processes=count, process_id=index)
  return True


def is_writer() -> bool:
  """Whether this process writes reports, plots and JSON: process 0, or the only process."""
  return not jax.distributed.is_initialized() or jax.process_index() == 0


def global_array(host, sharding) -> jax.Array:
  """A numpy array (the same on every process) laid out as `sharding`: each device gets its part."""
  host = np.asarray(host)
  return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def same_on_every_process(tree):
  """`tree` as process 0 holds it, on every process (numpy); as is in a single process."""
  if jax.process_count() == 1:
    return tree
  from jax.experimental import multihost_utils
  return multihost_utils.broadcast_one_to_all(tree)


def barrier(name: str) -> None:
  """Waits until every process reaches `name` (files process 0 wrote are then there for all)."""
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils
    multihost_utils.sync_global_devices(name)

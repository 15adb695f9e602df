"""The device mesh of a config: one axis, `runs` (many runs side by side) or `data` (one batch split).

`config.mesh` (research.config_defaults.mesh, used when a config has none):
  axis     "auto" (default): "runs" for several runs; for one run "data" when its batch
           sizes are multiples of the device count, else one device (nothing to spread);
           "runs": the leading run axis of research.train.loop is sharded
           over the devices (seeds, CV folds, sweep points train as one program);
           "data": every training and evaluation batch is sharded over the
           devices, parameters are replicated and the compiler sums the gradients.
  devices  how many of `jax.devices()` (every process's) the mesh holds; 0 = all.
"""

from __future__ import annotations

import jax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from research.distributed import MeshError, mesh_settings

AXES = ("auto", "runs", "data")


def build(config, num_runs: int = 1, batch_sizes: tuple[int, ...] = ()) -> Mesh:
  """The one-axis mesh of `config.mesh` over the first `devices` of `jax.devices()`.

  `num_runs` and `batch_sizes` decide what `axis: auto` means for this program.
  """
  cfg = mesh_settings(config)
  if cfg.axis not in AXES:
    raise MeshError(f"config.mesh.axis is {cfg.axis!r}; it must be one of {AXES}. "
                    "Set it with --config.mesh.axis=runs (or data, auto).")
  available = jax.devices()
  count = int(cfg.devices) or len(available)
  if not 1 <= count <= len(available):
    raise MeshError(f"config.mesh.devices is {cfg.devices}; this program sees {len(available)} device(s) "
                    f"({available[0].platform}). Set --config.mesh.devices to 1..{len(available)}, or 0 for all.")
  axis = cfg.axis
  if axis == "auto":
    if num_runs > 1:
      axis = "runs"
    elif all(size % count == 0 for size in batch_sizes):
      axis = "data"
    else:  # One run whose batches cannot be split evenly: one device, as with a single device.
      axis, count = "runs", 1 if jax.process_count() == 1 else count
  # Auto: the compiler places what is not pinned (make_mesh's default, Explicit, puts shardings in types).
  return jax.make_mesh((count,), (axis,), axis_types=(AxisType.Auto,), devices=available[:count])


def sharded(mesh: Mesh) -> NamedSharding:
  """The leading axis split over the mesh's one axis."""
  return NamedSharding(mesh, PartitionSpec(mesh.axis_names[0]))


def replicated(mesh: Mesh) -> NamedSharding:
  """A whole copy on every device of the mesh."""
  return NamedSharding(mesh, PartitionSpec())

"""Where the multi-run driver's arrays live on the mesh, and the compiled epoch that follows them.

Three layouts, chosen from the mesh (research.train.mesh) and the number of runs R:
- one device (a one-device mesh in one process): today's program, placed on
  `jax.devices()[0]`, unchanged to the bit; its runs vmapped or computed one after another
  (config.train.runs);
- `runs` axis: the state's leading run axis is split over the devices
  (NamedSharding). R is padded to a multiple of the device count with copies of
  run 0 marked stopped from the start, so they never change and never report;
  checkpoints and results hold the R real runs only, so a run saved on one device
  count resumes on another;
- `data` axis: state and data are replicated, every batch (training and
  validation) is split over the devices; the compiler inserts the gradient sums.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from research import distributed
from research.train import mesh as mesh_lib


def _leading(tree, count: int):
  return jax.tree_util.tree_map(lambda a: a[:count], tree)


class Placement:
  """The layout of R runs on `mesh` (see the module docstring)."""

  def __init__(self, mesh, num_runs: int, batch_size: int, eval_batch_size: int):
    self.mesh, self.num_runs = mesh, num_runs
    self.axis = mesh.axis_names[0]
    self.one_device = mesh.size == 1 and jax.process_count() == 1
    self.padding = (-num_runs) % mesh.size if self.axis == "runs" and not self.one_device else 0
    self.replicated = mesh_lib.replicated(mesh)
    self.split = mesh_lib.sharded(mesh)
    if self.axis == "data" and not self.one_device:
      for name, size in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
        if size % mesh.size:
          raise mesh_lib.MeshError(
              f"config.train.{name} is {size}; the data axis splits every batch over {mesh.size} devices, "
              f"so it must be a multiple of {mesh.size}. Set --config.train.{name}="
              f"{-(-size // mesh.size) * mesh.size}, or --config.mesh.devices to a divisor of {size}.")

  @property
  def runs_split(self) -> bool:
    return self.axis == "runs" and not self.one_device

  def _state_sharding(self):
    return self.split if self.runs_split else self.replicated

  def _pad(self, tree):
    """Appends `padding` copies of run 0 along the leading axis (numpy)."""
    return jax.tree_util.tree_map(
        lambda a: np.concatenate([a, np.repeat(a[:1], self.padding, axis=0)]), tree)

  def data(self, host: dict, in_axis):
    """A training/validation split: stacked per run (`in_axis` 0) or shared by all (None)."""
    if self.one_device:
      return jax.device_put(host)
    if in_axis is None or not self.runs_split:
      return jax.tree_util.tree_map(lambda a: distributed.global_array(a, self.replicated), host)
    return jax.tree_util.tree_map(lambda a: distributed.global_array(a, self.split), self._pad(host))

  def state(self, state):
    """The stacked state of the R runs (host or device) laid out on the mesh; padded runs stopped."""
    if self.one_device:
      return state
    host = distributed.same_on_every_process(jax.device_get(state))
    if self.runs_split and self.padding:
      host = self._pad(host)
      stopped = np.asarray(host.controllers.stopped).copy()
      stopped[self.num_runs:] = True
      host = host.replace(controllers=host.controllers.replace(stopped=stopped))
    sharding = self._state_sharding()
    return jax.tree_util.tree_map(lambda a: distributed.global_array(a, sharding), host)

  @functools.cached_property
  def _real_runs(self):
    """Compiled: the R real runs, a whole copy on every device (readable by every process)."""
    return jax.jit(functools.partial(_leading, count=self.num_runs), out_shardings=self.replicated)

  def to_host(self, tree):
    """Numpy arrays of the R real runs (leading run axis)."""
    if self.one_device:
      return jax.device_get(tree)
    return jax.device_get(self._real_runs(tree))

  def for_checkpoint(self, state):
    """What a checkpoint holds: the R real runs (every process saves its part, Orbax collectively)."""
    return state if self.one_device or not self.padding else self._real_runs(state)

  def checkpoint_like(self, state):
    """The shapes (and, on a mesh, shardings) `for_checkpoint(state)` has, for a restore."""
    if self.one_device:
      return state
    sharding = self._state_sharding() if not self.padding else self.replicated
    return jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct((self.num_runs,) + a.shape[1:], a.dtype, sharding=sharding), state)

  def from_checkpoint(self, restored):
    return restored if self.one_device or not self.padding else self.state(restored)

  def shard_batch(self):
    """`batch -> batch` split over the devices (data axis), or None."""
    if self.axis != "data" or self.one_device:
      return None
    spec = NamedSharding(self.mesh, PartitionSpec(self.axis))
    return lambda batch: jax.lax.with_sharding_constraint(batch, spec)

  def epoch_program(self, pieces, train_axis, val_axis, stepping: str = "scan", runs: str = "vmap"):
    """The epoch over the stacked state: `pieces` (engine.EpochPieces) scanned in one compiled program,
    or with `stepping` "host" compiled apart and stepped from a Python loop (one device only).
    On one device `runs` "sequential" computes the runs one after another inside the program
    (engine.resolve_runs); a mesh vmaps them. R = 1 off the runs axis runs the plain epoch squeezed."""
    if stepping == "host":
      if not self.one_device:
        raise ValueError("host stepping is for one device; a mesh scans the epoch")
      return _host_program(pieces, self.num_runs, train_axis, val_axis)
    if self.one_device:
      return _program(pieces.epoch, self.num_runs, train_axis, val_axis, sequential=runs == "sequential")
    if self.runs_split:
      data = lambda axis: self.split if axis == 0 else self.replicated
      return _program(pieces.epoch, self.num_runs + self.padding, train_axis, val_axis,
                      in_shardings=(self.split, data(train_axis), data(val_axis)),
                      out_shardings=(self.split, self.replicated))
    return _program(pieces.epoch, self.num_runs, train_axis, val_axis, in_shardings=self.replicated,
                    out_shardings=self.replicated)

  def eval_program(self, eval_fn, runs: str = "vmap"):
    """`(stacked variables, shared data) -> metrics per run`, compiled (`runs` as in `epoch_program`)."""
    if self.one_device:
      return jax.jit(_per_run(eval_fn, self.num_runs, (0, None), sequential=runs == "sequential"))
    program = jax.vmap(eval_fn, in_axes=(0, None))
    return jax.jit(program, out_shardings=self.replicated)


def _per_run(fn, num_runs: int, in_axes, sequential: bool = False):
  """`fn` over a leading run axis: vmapped or `sequential`, or for one run squeezed (the plain program)
  and expanded."""
  if num_runs > 1:
    return _one_after_another(fn, in_axes) if sequential else jax.vmap(fn, in_axes=in_axes)
  squeeze = functools.partial(jax.tree_util.tree_map, lambda a: a[0])
  expand = functools.partial(jax.tree_util.tree_map, lambda a: a[None])

  def one(*args):
    return expand(fn(*(arg if axis is None else squeeze(arg) for arg, axis in zip(args, in_axes))))

  return one


def _one_after_another(fn, in_axes):
  """`fn` over the leading run axis as a loop inside the program (`lax.map`): each run computes what it
  computes alone, where vmapping batches every run's matrix products and convolutions into one, which
  on a CPU runs slower than the runs one by one (benchmarks/results.md, "Runs one after another")."""
  def mapped(*args):
    def one(per_run):
      it = iter(per_run)
      return fn(*(next(it) if axis == 0 else arg for arg, axis in zip(args, in_axes)))
    return jax.lax.map(one, tuple(arg for arg, axis in zip(args, in_axes) if axis == 0))
  return mapped


def _program(epoch_fn, num_runs: int, train_axis, val_axis, sequential: bool = False, **shardings):
  return jax.jit(_per_run(epoch_fn, num_runs, (0, train_axis, val_axis), sequential), donate_argnums=0,
                 **shardings)


def _host_program(pieces, num_runs: int, train_axis, val_axis):
  """The epoch as compiled begin, step and finish, the steps called from a Python loop, one run after
  another: the step and the validation see one run's state, not the stacked runs, because vmapping a
  convolution's weights makes it a grouped convolution, which XLA:CPU runs slowly (InceptionTime,
  5 members: 1.5 s per epoch this way against 2.9 s vmapped; benchmarks/results.md)."""
  def unstack(tree):
    return tuple(jax.tree_util.tree_map(lambda a, r=r: a[r], tree) for r in range(num_runs))

  def step(state, train_data, plan, i, r):
    data = train_data if train_axis is None else jax.tree_util.tree_map(lambda a: a[r], train_data)
    return pieces.step_at(state, data, plan, i)

  def finish(state, runs, rng, outs, val_data):
    # runs[r]: run r's state after its steps; outs[r][i]: run r's step i.
    stack = lambda *trees: jax.tree_util.tree_map(lambda *a: jnp.stack(a), *trees)
    new, outs = stack(*runs), stack(*[stack(*steps) for steps in outs])
    if val_axis is None:
      return jax.lax.map(lambda args: pieces.finish(*args, val_data), (state, new, rng, outs))
    return jax.lax.map(lambda args: pieces.finish(*args), (state, new, rng, outs, val_data))

  begin = jax.jit(_per_run(pieces.begin, num_runs, (0, train_axis)))
  unstack, finish, step = jax.jit(unstack), jax.jit(finish), jax.jit(step, donate_argnums=0)

  def epoch(state, train_data, val_data):
    rng, plan = begin(state, train_data)
    # Fresh copies of each run's state: the steps donate them, finish still needs `state` (best weights).
    runs, plans = list(unstack(state)), unstack(plan)
    outs = [[] for _ in range(num_runs)]
    for r in range(num_runs):
      for i in range(plan[0].shape[1]):  # plan: (runs, steps, ...)
        runs[r], out = step(runs[r], train_data, plans[r], i, r)
        outs[r].append(out)
    return finish(state, tuple(runs), rng, tuple(map(tuple, outs)), val_data)

  return epoch

"""What every launch script shares: flags -> one library call; every error -> one line and one exit code.

`run(main)` replaces `absl.app.run(main)`; `main(argv)` calls one library function
and returns the exit status (None: 0). Errors become `error: ...` on stderr (no
traceback) and an exit status here, and only here (`exit_codes`, first match wins):

  flags: a missing config file, unknown variant, misspelt --config.key, wrong type  2
  ConfigError (a field out of range, research.config_check)                          2
  MeshError, DistributedError (config.mesh, multi-host settings)                     2
  ResearchError, DataError, ValueError, KeyError                                     1
  OSError (no space, read-only, permission, missing file): the path and the cause    1
  Interrupted (SIGTERM/SIGINT: the epoch was saved)                                  128 + signal
  KeyboardInterrupt (a second signal)                                                130
"""

from __future__ import annotations

import datetime
import errno
import pathlib
import re
import shlex
import sys

from absl import app, flags, logging


def _config_paths(argv) -> dict[str, str]:
  """{flag name: 'file[:variant]'} of the config-file flags on the command line."""
  found = {}
  for name in ("config", "baseline"):
    for i, arg in enumerate(argv):
      if arg.startswith(f"--{name}="):
        found[name] = arg.split("=", 1)[1]
      elif arg == f"--{name}" and i + 1 < len(argv):
        found[name] = argv[i + 1]
  return found


def _misspelt_override(argv) -> str | None:
  """The first `--config.a.b=...` whose field the config does not have, explained."""
  from research import config_file
  paths = _config_paths(argv)
  for arg in argv:
    match = re.match(r"--(config|baseline)\.([\w.]+)", arg)
    if not match or match.group(1) not in paths:
      continue
    node, dotted = config_file.load(paths[match.group(1)]), match.group(2)
    for part in dotted.split("."):
      if not hasattr(node, "keys") or part not in node:
        valid = sorted(node.keys()) if hasattr(node, "keys") else []
        return (f"--{match.group(1)}.{dotted}: the config has no field {part!r} there; valid: {valid}. "
                f"Check the spelling (see {paths[match.group(1)].split(':')[0]}).")
      node = node[part]
  return None


def _explain(error: BaseException, argv) -> str:
  text = str(error)
  paths = _config_paths(argv)
  if isinstance(error, OSError) or "No such file or directory" in text:
    files = [p.split(":")[0] for p in paths.values()]
    missing = ", ".join(f for f in files if not pathlib.Path(f).is_file()) or text
    return f"cannot load the config file {missing}: no such file. Give a path like configs/tcn.py."
  if isinstance(error, (AttributeError, KeyError)):
    return _misspelt_override(argv) or text.strip()
  lines = [line.strip() for line in text.splitlines() if line.strip()]
  causes = [line for line in lines if re.match(r"^\w+(Error|Exception): ", line)]
  message = causes[-1].split(": ", 1)[1] if causes else (lines[-1] if lines else repr(error))
  return message


_MESH_FLAG = re.compile(r"--config\.mesh\.(\w+)=(.*)")


def _split_mesh_flags(argv) -> tuple[list[str], dict[str, str]]:
  """argv without its `--config.mesh.FIELD=VALUE` flags, and those as {field: text}."""
  rest, mesh = [], {}
  for arg in argv:
    match = _MESH_FLAG.fullmatch(arg)
    if match:
      mesh[match.group(1)] = match.group(2)
    else:
      rest.append(arg)
  return rest, mesh


def _apply_mesh_flags(config, texts: dict[str, str]) -> None:
  """Sets config.mesh (research.config_defaults.mesh, filled in when the config has no such group)."""
  from research import config_defaults
  current = config_defaults.mesh(**(config.mesh.to_dict() if "mesh" in config else {}))
  values = {}
  for field, text in texts.items():
    if field not in current:
      raise ValueError(f"--config.mesh.{field}: config.mesh has no field {field!r}; valid: {sorted(current)}")
    try:
      values[field] = type(current[field])(text)
    except ValueError as error:
      raise ValueError(f"--config.mesh.{field}={text}: expected {type(current[field]).__name__}, "
                       f"as in --config.mesh.{field}={current[field]!r}") from error
  with config.unlocked():
    config.mesh = config_defaults.mesh(**{**current.to_dict(), **values})


def parse_flags(argv):
  """absl's parse with every configuration error as one line and exit status 2.

  `--config.mesh.FIELD=VALUE` works for every config: a config without a `mesh`
  group gets research.config_defaults.mesh() with the value set.
  """
  try:
    argv, mesh_texts = _split_mesh_flags(argv)
    full_argv, sys.argv = sys.argv, _split_mesh_flags(sys.argv)[0]  # config_flags reads sys.argv too
    try:
      rest = flags.FLAGS(argv)
    finally:
      sys.argv = full_argv  # The resume command repeats every flag.
    if mesh_texts:
      if "config" not in flags.FLAGS or flags.FLAGS.config is None:
        raise ValueError("--config.mesh.* needs a --config")
      _apply_mesh_flags(flags.FLAGS.config, mesh_texts)
    for name in ("config", *_config_paths(argv)):  # config_flags defers a load error to the first use
      value = getattr(flags.FLAGS, name) if name in flags.FLAGS else None
      if value is not None:
        getattr(value, "keys")
    return rest
  except (flags.Error, OSError, AttributeError, KeyError, ValueError, TypeError) as error:
    print(f"error: {_explain(error, argv)}", file=sys.stderr)
    sys.exit(2)


def workdir(prefix: str = "") -> pathlib.Path:
  """--workdir, or runs/<prefix>-<config>[-<variant>]-<time>; the resume command then names it.

  Several processes would each stamp their own time, so a multi-host run must give --workdir.
  """
  given = flags.FLAGS.workdir
  if not given:
    import jax
    if jax.process_count() > 1:
      print("error: give --workdir (the same shared folder on every host): each process would stamp "
            "its own default", file=sys.stderr)
      sys.exit(2)
    file, _, variant = flags.FLAGS["config"].config_filename.partition(":")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    given = str(pathlib.Path("runs") / "-".join(filter(None, [prefix, pathlib.Path(file).stem, variant, stamp])))
  flags.FLAGS.workdir = given
  return pathlib.Path(given)


def resume_command() -> str:
  """The command line that continues this one (with the --workdir it chose, if it has one)."""
  args = sys.argv[1:]
  workdir = getattr(flags.FLAGS, "workdir", None) if "workdir" in flags.FLAGS else None
  if workdir and not any(a == "--workdir" or a.startswith("--workdir=") for a in args):
    args.append(f"--workdir={workdir}")
  return shlex.join(["python", sys.argv[0], *args])


def exit_codes():
  """(exception types, exit status) in the order they are tried: the one table of every launcher."""
  from research import config_check
  from research import distributed
  from research.data.errors import DataError
  from research.errors import ResearchError
  return (((config_check.ConfigError, distributed.MeshError, distributed.DistributedError), 2),
          ((ResearchError, DataError, ValueError, OSError, KeyError), 1))


_OS_HINTS = {"ENOSPC": "Free space on that disk, or choose another path.",
             "EDQUOT": "Free space within your quota, or choose another path.",
             "EROFS": "The file system is read-only: choose a writable path.",
             "EACCES": "Make it writable for this user, or choose another path.",
             "EPERM": "Make it writable for this user, or choose another path.",
             "EEXIST": "Remove it, or choose another path."}


def _message(error: BaseException) -> str:
  if isinstance(error, KeyError) and error.args:  # str(KeyError) is the repr of its argument
    return str(error.args[0])
  if type(error).__str__ is OSError.__str__ and error.strerror:  # a raw OSError: the path and the cause
    path = error.filename if error.filename is not None else "a file"
    other = f" -> {error.filename2}" if error.filename2 is not None else ""
    code = errno.errorcode.get(error.errno, error.errno)
    return f"cannot use {path}{other}: {error.strerror} ({code}). {_OS_HINTS.get(code, 'Check the path.')}"
  return " ".join(str(error).split("\n")[0].split()) if isinstance(error, OSError) else str(error)


def show(path, workdir=None) -> int:
  """Prints a written report (and the workdir) from the process that writes files; returns 0."""
  from research import distributed
  if distributed.is_writer():
    print(pathlib.Path(path).read_text())
    if workdir is not None:
      print(f"Workdir: {workdir}")
  return 0


def _guarded(main, argv) -> int:
  from research import distributed
  from research.train import interrupt
  table = exit_codes()
  logging.set_verbosity(logging.WARNING)
  try:
    distributed.initialize(flags.FLAGS.config if "config" in flags.FLAGS else None)
    return main(argv) or 0
  except interrupt.Interrupted as error:
    print(f"stopped: {error}\nResume with: {resume_command()}", file=sys.stderr)
    return 128 + error.signal_number
  except KeyboardInterrupt:
    print(f"stopped at once: every checkpoint on disk is whole. Resume with: {resume_command()}", file=sys.stderr)
    return 130
  except tuple(t for types, _ in table for t in types) as error:
    print(f"error: {_message(error)}", file=sys.stderr)
    return next(code for types, code in table if isinstance(error, types))


def run(main) -> None:
  """`app.run(main)` with `parse_flags` and the exit-code table; `main(argv)` returns the exit status.

  A training interrupted by SIGTERM/SIGINT exits 128 + the signal's number, printing
  the command that resumes it. JAX's persistent compilation cache is on
  (research.compile_cache; RESEARCH_JAX_CACHE=off turns it off). With a coordinator
  configured (config.mesh, $JAX_COORDINATOR_ADDRESS) the process joins the others
  of a multi-host run first (research.distributed). absl logs warnings and above.
  """
  from research import compile_cache
  compile_cache.enable()
  app.run(lambda argv: sys.exit(_guarded(main, argv)), flags_parser=parse_flags)

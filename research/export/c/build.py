"""Writing and building C: exact float literals, the package's C sources, gcc, compiled sizes."""

from __future__ import annotations

import importlib.resources
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

C_FLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-pedantic")


def c_sources() -> pathlib.Path:
  """The folder of the package's C sources (research/export/c: semg_features.h/.c)."""
  return pathlib.Path(str(importlib.resources.files("research.export.c")))


def compiler() -> str | None:
  """The C compiler used here: $CC-like gcc on the PATH, or None."""
  return shutil.which("gcc")


def float_literal(value: float) -> str:
  """An exact C float literal of a float32 value (hexadecimal, C99)."""
  value = float(np.float32(value))
  if not np.isfinite(value):
    raise ValueError(f"Cannot write a non-finite float32 constant {value} into C")
  return f"{value.hex()}f"


def c_array(ctype: str, name: str, values, per_line: int = 12) -> str:
  """A `static const` C array of `values` (already written as C literals or ints)."""
  items = [str(v) for v in values] or ["0"]
  lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
  body = ",\n  ".join(lines)
  return f"static const {ctype} {name}[{max(len(values), 1)}] = {{\n  {body}\n}};"


def _sections(object_file: pathlib.Path) -> dict[str, int]:
  size = shutil.which("size")
  if size is None:
    raise RuntimeError("binutils' `size` is not on the PATH; it reads the sections of the compiled object.")
  out = subprocess.run([size, "-A", str(object_file)], capture_output=True, text=True, check=True).stdout
  sections: dict[str, int] = {}
  for line in out.splitlines():
    parts = line.split()
    if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
      key = ".rodata" if parts[0].startswith(".rodata") else ".text" if parts[0].startswith(".text") else parts[0]
      sections[key] = sections.get(key, 0) + int(parts[1])
  return sections


def _compiled_sections(source: str, folder, cc: str | None) -> dict[str, int]:
  """The sections of `source` (C code) compiled with gcc -Os -c (this host's ISA), in bytes."""
  cc = cc or compiler()
  if cc is None:
    raise RuntimeError("No C compiler (gcc) on the PATH: cannot measure the compiled size.")
  folder = pathlib.Path(folder)
  with tempfile.TemporaryDirectory() as tmp:
    src, obj = pathlib.Path(tmp) / "unit.c", pathlib.Path(tmp) / "unit.o"
    src.write_text(source)
    subprocess.run([cc, "-std=c99", "-Os", "-iquote", str(folder), "-c", str(src), "-o", str(obj)],
                   capture_output=True, text=True, check=True)
    return _sections(obj)


def flash_size(source: str, folder, cc: str | None = None) -> dict[str, int]:
  """.text, .rodata and their sum of `source` (C code) compiled with gcc -Os -c (this host's ISA)."""
  sections = _compiled_sections(source, folder, cc)
  text, rodata = sections.get(".text", 0), sections.get(".rodata", 0)
  return {"text": text, "rodata": rodata, "flash_bytes": text + rodata}


def static_ram_size(source: str, folder, cc: str | None = None) -> int:
  """Bytes of static RAM (.bss + .data) of `source` compiled with gcc -Os -c: its static
  buffers and initialised variables; the stack is not included."""
  sections = _compiled_sections(source, folder, cc)
  return sections.get(".bss", 0) + sections.get(".data", 0)


def compile_harness(folder, cc: str | None = None,
                    sources: tuple[str, ...] = ("main.c", "semg_features.c")) -> pathlib.Path:
  """Compiles `sources` (main.c + semg_features.c unless told) in `folder` into folder/main; returns its path."""
  cc = cc or compiler()
  if cc is None:
    raise RuntimeError("No C compiler (gcc) on the PATH: cannot build the C harness.")
  folder = pathlib.Path(folder)
  binary = folder / "main"
  done = subprocess.run([cc, *C_FLAGS, "-o", str(binary), *(str(folder / name) for name in sources), "-lm"],
                        capture_output=True, text=True)
  if done.returncode != 0:
    raise RuntimeError(f"gcc failed on {folder}/main.c:\n{done.stderr[-2000:]}")
  if done.stderr.strip():
    raise RuntimeError(f"gcc warned on {folder}/main.c (the sources must compile cleanly):\n{done.stderr[-2000:]}")
  return binary


def run_harness(binary, windows: np.ndarray, flag: list[str]) -> list[list[str]]:
  """The harness's printed lines (split into words) for float32 windows, one line per window."""
  with tempfile.NamedTemporaryFile(suffix=".f32") as data:
    np.ascontiguousarray(windows, dtype=np.float32).tofile(data.name)
    done = subprocess.run([str(binary), data.name, *flag], capture_output=True, text=True)
  if done.returncode != 0:
    raise RuntimeError(f"{binary} failed ({done.returncode}): {done.stderr[-1000:]}")
  rows = [line.split() for line in done.stdout.splitlines() if line.strip()]
  if len(rows) != len(windows):
    raise RuntimeError(f"{binary} printed {len(rows)} lines for {len(windows)} windows")
  return rows


def parity_lines(parity: dict, examples: str = "windows") -> tuple[list[str], list[str]]:
  """The report's lines about a C program's parity with the run, and the failed check (classes
  not all the same); `examples` names what was classified (windows, series)."""
  if not parity["checked"]:
    return [f"not checked: {parity['reason']}"], []
  lines = [f"C vs the run on {parity['examples']} {parity['split']} {examples}: class agreement "
           f"{parity['class_agreement']:.3f}, max probability difference {parity['max_abs_prob_diff']:.2e}"]
  errors = []
  if parity["class_agreement"] != 1.0:
    errors.append(f"the C program's classes agree with the run's on {parity['class_agreement']:.3f} "
                  f"of the {examples}, not all")
  return lines, errors


def as_windows(windows) -> np.ndarray:
  """(N, T) or (N, T, C) windows as float32 (N, T, C)."""
  x = np.asarray(windows, np.float32)
  return x[:, :, None] if x.ndim == 2 else x

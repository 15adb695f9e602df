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


def flash_size(source: str, folder, cc: str | None = None) -> dict[str, int]:
  """.text, .rodata and their sum of `source` (C code) compiled with gcc -Os -c (this host's ISA)."""
  cc = cc or compiler()
  if cc is None:
    raise RuntimeError("No C compiler (gcc) on the PATH: cannot measure the compiled size.")
  folder = pathlib.Path(folder)
  with tempfile.TemporaryDirectory() as tmp:
    src, obj = pathlib.Path(tmp) / "unit.c", pathlib.Path(tmp) / "unit.o"
    src.write_text(source)
    subprocess.run([cc, "-std=c99", "-Os", "-iquote", str(folder), "-c", str(src), "-o", str(obj)],
                   capture_output=True, text=True, check=True)
    sections = _sections(obj)
  text, rodata = sections.get(".text", 0), sections.get(".rodata", 0)
  return {"text": text, "rodata": rodata, "flash_bytes": text + rodata}


def compile_harness(folder, cc: str | None = None, sources=("semg_features.c",)) -> pathlib.Path:
  """Compiles main.c + `sources` (default semg_features.c) in `folder` into folder/main; returns its path."""
  cc = cc or compiler()
  if cc is None:
    raise RuntimeError("No C compiler (gcc) on the PATH: cannot build the C harness.")
  folder = pathlib.Path(folder)
  binary = folder / "main"
  done = subprocess.run([cc, *C_FLAGS, "-o", str(binary), str(folder / "main.c"),
                         *(str(folder / source) for source in sources), "-lm"], capture_output=True, text=True)
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


def as_windows(windows) -> np.ndarray:
  """(N, T) or (N, T, C) windows as float32 (N, T, C)."""
  x = np.asarray(windows, np.float32)
  return x[:, :, None] if x.ndim == 2 else x

"""A data cache entry's manifest: the SHA-256 of every file in the entry's folder, written last
when the entry is built and compared with the files whenever the entry is read.

    cache_manifest.write(folder)            # after every other file is written
    cache_manifest.problem(folder)          # None, or what differs: "... changed a/0.npy; missing ..."

SHA-256 rather than a faster checksum: measured on the shared 2-core CPU, CRC-32 would save
about 0.1 s of the 0.3 s that hashing the 9,000 generated sign frames takes (reading them alone
takes 0.16 s) and 0.05 s on a 60 MB array entry; SHA-256 also lets a verified manifest stand for
the folder's content in other keys (`identity`). sources.py gives the cache-hit figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib

FILE = "cache_manifest.json"
VERSION = 1
_SHOWN = 3  # file names listed per kind of difference


def file_digest(path) -> str:
  """SHA-256 (hex) of the bytes of the file at `path`."""
  with open(path, "rb", buffering=0) as f:  # one read: the cache's files are small or a few MB
    return hashlib.sha256(f.read()).hexdigest()


def _files(folder: pathlib.Path) -> list[str]:
  """Every file under `folder` but the manifest, as sorted POSIX paths relative to `folder`."""
  top = str(folder)
  names = []
  for directory, _, files in os.walk(top):  # plain strings: pathlib costs more than hashing a frame
    relative = os.path.relpath(directory, top)
    names.extend(files if relative == "." else (f"{relative}/{name}" for name in files))
  return sorted(name for name in names if name != FILE)


def digests(folder) -> dict[str, str]:
  """{relative path: SHA-256} of every file under `folder` but the manifest."""
  folder = pathlib.Path(folder)
  return {name: file_digest(os.path.join(folder, name)) for name in _files(folder)}


def write(folder) -> None:
  """Writes the manifest of `folder`'s files; call it when every other file is in place."""
  folder = pathlib.Path(folder)
  text = json.dumps({"version": VERSION, "hash": "sha256", "files": digests(folder)}, separators=(",", ":"))
  (folder / FILE).write_text(text + "\n")


def identity(folder) -> str:
  """SHA-256 (hex) of `folder`'s manifest. The manifest names every file with its SHA-256, so for
  a folder that matches it (`problem` is None) this identifies every byte of the folder."""
  return file_digest(pathlib.Path(folder) / FILE)


def problem(folder) -> str | None:
  """None when `folder`'s files are exactly those of its manifest, byte for byte; otherwise what
  differs (no manifest, files changed, missing or not listed), naming up to three files of each."""
  folder = pathlib.Path(folder)
  try:
    stored = json.loads((folder / FILE).read_text())
    expected = stored["files"]
    if stored.get("version") != VERSION or not isinstance(expected, dict):
      return f"has a {FILE} of another version"
  except FileNotFoundError:
    return f"has no {FILE} (its build did not finish, or an older version wrote it)"
  except (OSError, ValueError, KeyError, TypeError) as error:
    return f"has an unreadable {FILE} ({error})"
  found = _files(folder)
  missing = sorted(set(expected) - set(found))
  unexpected = sorted(set(found) - set(expected))
  changed = [name for name in found if name in expected and not _matches(os.path.join(folder, name), expected[name])]
  differences = [f"{what} {_listed(names)}" for what, names in
                 (("changed", changed), ("missing", missing), ("not in its manifest", unexpected)) if names]
  return "has files that differ from its manifest: " + "; ".join(differences) if differences else None


def _matches(path: str, digest: str) -> bool:
  try:
    return file_digest(path) == digest
  except OSError:  # unreadable, or removed while checking
    return False


def _listed(names: list[str]) -> str:
  shown = ", ".join(names[:_SHOWN])
  return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")

"""Writes a synthetic dataset to disk in the layout its real counterpart uses.

  python launch/make_data.py NAME --out DIR [--option value ...]

NAME is one of research.data.GENERATORS; options are that generator's keyword arguments
(research/data/synthetic/), each given as the type of its default. A bad option is a
one-line error with exit status 2; a generator refusing its options exits with 1.
"""

from __future__ import annotations

import argparse
import inspect
import sys

from research import data


def _options(generator) -> dict[str, inspect.Parameter]:
  """The generator's keyword options (everything after out_dir)."""
  parameters = list(inspect.signature(generator).parameters.values())[1:]
  return {p.name: p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _cast(name: str, text: str, parameter: inspect.Parameter):
  """`text` as the type of an annotated option's default (int, float, str); an option without an
  annotation (keypoints --actions: a count or comma-separated names) takes an int, float or str."""
  default = parameter.default
  if parameter.annotation is inspect.Parameter.empty:
    default = None
  if isinstance(default, bool):
    if text.lower() not in ("0", "1", "true", "false"):
      raise ValueError(f"--{name} takes true/false; got {text!r}")
    return text.lower() in ("1", "true")
  if isinstance(default, int):
    try:
      return int(text)
    except ValueError:
      raise ValueError(f"--{name} takes a whole number; got {text!r}") from None
  if isinstance(default, float):
    try:
      return float(text)
    except ValueError:
      raise ValueError(f"--{name} takes a number; got {text!r}") from None
  if isinstance(default, str):
    return text
  for cast in (int, float):
    try:
      return cast(text)
    except ValueError:
      pass
  return text


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("name", choices=sorted(data.GENERATORS))
  parser.add_argument("--out", required=True, help="output folder")
  args, rest = parser.parse_known_args(argv)
  if len(rest) % 2 or any(not key.startswith("--") for key in rest[::2]):
    parser.error(f"options must come as '--key value' pairs; got {rest}")
  generator = data.GENERATORS[args.name]
  known = _options(generator)
  options = {}
  for key, value in zip(rest[::2], rest[1::2]):
    name = key[2:]
    if name not in known:
      parser.error(f"unknown option {key} for {args.name!r}; valid: {', '.join('--' + k for k in known)}")
    try:
      options[name] = _cast(name, value, known[name])
    except ValueError as error:
      parser.error(str(error))
    if name == "seed" and not (isinstance(options[name], int) and options[name] >= 0):
      parser.error(f"--seed takes a whole number >= 0; got {value!r}")
  try:
    written = generator(args.out, **options)
  except data.DataError as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  except OSError as error:  # --out is a file, a read-only folder, a full disk: the path and the cause
    print(f"error: make_data {args.name}: cannot write {error.filename or args.out}: {error.strerror}. "
          "--out must be a folder you can write to (a new or existing folder, not a file).", file=sys.stderr)
    return 1
  if isinstance(written, list):
    print(f"{args.name}: wrote {len(written)} files to {args.out}")
  else:
    print(f"{args.name}: wrote {written or args.out}")
  return 0


if __name__ == "__main__":
  sys.exit(main())

"""Writes a synthetic dataset to disk in the layout its real counterpart uses.

  python launch/make_data.py NAME --out DIR [--option value ...]

NAME is one of research.data.GENERATORS; options go to that generator as keyword
arguments (numbers are parsed as numbers).
"""

from __future__ import annotations

import argparse
import sys

from research import data


def _parse_value(text: str):
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
  options = {key[2:]: _parse_value(value) for key, value in zip(rest[::2], rest[1::2])}
  data.GENERATORS[args.name](args.out, **options)
  return 0


if __name__ == "__main__":
  sys.exit(main())

"""The UEA/UCR `.ts` time-series format (sktime's text format): read, find the TEST file, write.

    # comment
    @problemName Example
    @univariate false
    @dimensions 2
    @equalLength false
    @missing true
    @classLabel true walk run jump
    @data
    1.0,2.0,?,4.0:0.5,0.6,0.7,0.8:walk
    3.0,2.0:1.0,1.0:run

One case per line: dimensions separated by ':', values by ',', the class label last.
'?' (or NaN) is a missing value; series may differ in length between cases (and
between dimensions of a case: the shorter ones are padded with missing values).
"""

from __future__ import annotations

import pathlib

import numpy as np

from research.data.errors import DataError, DataNotFoundError


def _parse_case(line: str, number: int, path, labelled: bool) -> tuple[np.ndarray, str]:
  """One data line -> ((T, D) float32 with NaN for missing, label)."""
  parts = line.split(":")
  if not labelled:
    raise DataError(f"{path}: no '@classLabel true ...' header; the classifiers need labelled cases",
                    "unlabelled")
  if len(parts) < 2:
    raise DataError(f"{path}:{number}: expected '<dim1>:...:<label>'; found no ':' before a label",
                    "bad_line")
  label, parts = parts[-1].strip(), parts[:-1]
  if not label:
    raise DataError(f"{path}:{number}: empty class label after the last ':'; give every case its label",
                    "bad_line")
  dims = []
  for d, part in enumerate(parts):
    try:
      values = [float("nan") if v.strip() in ("?", "") else float(v) for v in part.split(",")]
    except ValueError as e:
      raise DataError(f"{path}:{number}: dimension {d + 1} holds a value that is not a number "
                      f"or '?': {e}. Write missing values as '?'", "bad_value") from None
    dims.append(np.asarray(values, np.float32))
  length = max(len(v) for v in dims)
  x_TD = np.full((length, len(dims)), np.nan, np.float32)
  for d, values in enumerate(dims):
    x_TD[:len(values), d] = values
  return x_TD, label


def read_ts(path) -> tuple[list[np.ndarray], list[str], dict]:
  """Parses one `.ts` file: (series list of (T_i, D) float32 with NaN for missing, labels, header)."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise DataNotFoundError(f"{path}: no such .ts file; check config.data.path (or data.test_path)")
  header: dict = {}
  series, labels = [], []
  in_data = False
  with open(path, encoding="utf-8", errors="replace") as f:
    for number, line in enumerate(f, 1):
      line = line.strip()
      if not line or line.startswith(("#", "%")):  # '%' comments come from ARFF-converted files
        continue
      if not in_data:
        if not line.startswith("@"):
          raise DataError(f"{path}:{number}: expected a '@key value' header line before @data; "
                          f"found {line[:60]!r}. Is this a .ts file?", "bad_header")
        key, _, value = line[1:].partition(" ")
        key = key.lower()
        if key == "data":
          in_data = True
        elif key == "classlabel":
          words = value.split()
          header["classlabel"] = bool(words) and words[0].lower() == "true"
          header["class_names"] = words[1:]
        else:
          header[key] = value.strip()
        continue
      if header.get("timestamps", "false").lower() == "true":
        raise DataError(f"{path}: '@timeStamps true' series are not supported; export the series "
                        f"without timestamps (plain comma-separated values)", "unsupported")
      if (header.get("targetlabel") or "false").split()[0].lower() == "true":
        raise DataError(f"{path}: '@targetLabel' marks a regression dataset; the classifiers need "
                        f"'@classLabel true ...'", "unsupported")
      x_TD, label = _parse_case(line, number, path, header.get("classlabel", True))
      if series and x_TD.shape[1] != series[0].shape[1]:
        raise DataError(f"{path}:{number}: case has {x_TD.shape[1]} dimensions, the first case has "
                        f"{series[0].shape[1]}; every case needs the same dimensions", "channel_mismatch")
      series.append(x_TD)
      labels.append(label)
  if not in_data:
    raise DataError(f"{path}: no '@data' line; is this a .ts file? Headers ('@problemName ...') come first, "
                    "then '@data', then one case per line", "bad_header")
  if not series:
    raise DataError(f"{path}: no cases after '@data'; add one line per case", "empty")
  if "dimensions" in header:
    declared = header["dimensions"].strip()
    if not declared.isascii() or not declared.isdigit() or int(declared) != series[0].shape[1]:
      raise DataError(f"{path}: header says @dimensions {declared!r}, the data have {series[0].shape[1]}; "
                      "fix the header or the cases", "bad_header")
  return series, labels, header


def find_test_file(train_path: pathlib.Path) -> pathlib.Path | None:
  """`<Name>_TEST.ts` beside `<Name>_TRAIN.ts`, as the UEA/UCR archive ships them."""
  name = train_path.name
  for a, b in (("_TRAIN", "_TEST"), ("_train", "_test")):
    if a in name:
      candidate = train_path.with_name(name.replace(a, b))
      if candidate.is_file():
        return candidate
  return None


def resolve_paths(path, test_path=None) -> tuple[pathlib.Path, pathlib.Path | None]:
  """A folder holding one *_TRAIN.ts, or a .ts file; the test file from `test_path` or beside it."""
  path = pathlib.Path(path)
  if path.is_dir():
    trains = sorted(path.glob("*_TRAIN.ts"))
    if len(trains) != 1:
      raise DataError(f"config.data.path={str(path)!r} is a folder; expected exactly one *_TRAIN.ts "
                      f"in it, found {[p.name for p in trains]}. Point data.path at the file.", "bad_path")
    path = trains[0]
  if test_path:
    return path, pathlib.Path(test_path)
  return path, find_test_file(path)


def _value(v) -> str:
  return "?" if not np.isfinite(v) else f"{v:.6g}"


def write_ts(path, series: list[np.ndarray], labels: list[str], class_names: list[str],
             problem: str = "Problem") -> pathlib.Path:
  """Writes (T_i, D) series with string labels as a `.ts` file (NaN -> '?')."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  dims = series[0].shape[1]
  equal = len({len(s) for s in series}) == 1
  missing = any(not np.isfinite(s).all() for s in series)
  lines = [f"@problemName {problem}", "@timeStamps false", f"@missing {str(missing).lower()}",
           f"@univariate {str(dims == 1).lower()}", f"@dimensions {dims}",
           f"@equalLength {str(equal).lower()}"]
  if equal:
    lines.append(f"@seriesLength {len(series[0])}")
  lines += [f"@classLabel true {' '.join(class_names)}", "@data"]
  for x_TD, label in zip(series, labels):
    lines.append(":".join(",".join(_value(v) for v in x_TD[:, d]) for d in range(dims)) + f":{label}")
  path.write_text("\n".join(lines) + "\n")
  return path

"""Runs every benchmark (ours and the references, alternating) and writes benchmarks/results.md.

  python benchmarks/run.py [--only NAME[,NAME]] [--quick] [--repeat N]
                           [--recorded NAME=FILE]

Benchmarks (NAMES): lstm_epoch (JAX vs PyTorch), tcn_epoch (JAX vs Keras), sign_lstm_fit
(JAX vs Keras), second_start (first vs second start per config), multirun_scaling
(R vmapped runs vs R one by one), maxcrnn_compile (compile seconds per program).
Each benchmark with a reference runs `--repeat` times (3; 1 with --quick), ours and theirs
alternating (ours first on even repetitions, theirs first on odd), each in a fresh process;
tables give medians and ratios. Results are kept per benchmark in benchmarks/results.json,
so `--only` refreshes some and results.md is rewritten from all of them.
`--note NAME=TEXT` (with `--only NAME`) adds a note to a stored result without running it.
`--recorded NAME=FILE` takes FILE (the JSON lines of ours-only benchmarks, with
`# command: ...` lines naming what produced them) instead of running NAME; results.md
lists those commands and the file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import shlex
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS_JSON = ROOT / "benchmarks" / "results.json"
RESULTS_MD = ROOT / "benchmarks" / "results.md"


def commands(quick: bool) -> dict:
  """{name: {"ours": argv, "theirs": argv or None}} (argv after `python`)."""
  fit_epochs = "20" if quick else "200"
  lstm_epochs = "1" if quick else "2"
  second = "sign_lstm,tcn" if quick else "tcn,sign_lstm,lstm_filter,maxcrnn,cnn_svm,inception_time"
  scaling = (["--families", "sign_lstm,maxcrnn", "--runs", "1,5"] if quick
             else ["--families", "sign_lstm,maxcrnn,tcn,lstm_filter,inception_time", "--runs", "1,5,20"])
  return {
      "lstm_epoch": {"ours": ["benchmarks/lstm_epoch.py", "--fixed-only", "--epochs", lstm_epochs],
                     "theirs": ["benchmarks/reference/torch_lstm_filter.py", "--epochs", lstm_epochs]},
      "tcn_epoch": {"ours": ["benchmarks/tcn_epoch.py", "--epochs", "3"],
                    "theirs": ["benchmarks/reference/keras_tcn.py", "--epochs", "3"]},
      "sign_lstm_fit": {"ours": ["benchmarks/sign_lstm_fit.py", "--epochs", fit_epochs],
                        "theirs": ["benchmarks/reference/keras_sign_lstm.py", "--epochs", fit_epochs]},
      "second_start": {"ours": ["benchmarks/second_start.py", "--configs", second], "theirs": None},
      "multirun_scaling": {"ours": ["benchmarks/multirun_scaling.py", "--epochs", "3"] + scaling, "theirs": None},
      "maxcrnn_compile": {"ours": ["benchmarks/maxcrnn_compile.py", "--variants", "base,no_dropout,plain_lstm"],
                          "theirs": None},
  }


def load_average() -> list[float]:
  return [round(v, 2) for v in os.getloadavg()]


def machine() -> dict:
  cpu = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
              if line.startswith("model name")), platform.processor())
  versions = {}
  for module in ("jax", "jaxlib", "flax", "optax", "tensorflow", "keras", "torch"):
    probe = subprocess.run([sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                           capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    versions[module] = probe.stdout.strip().splitlines()[-1] if probe.returncode == 0 else "not installed"
  return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "versions": versions}


def run(argv: list[str]) -> dict:
  """One fresh process: its stdout, wall seconds, return code and the tail of stderr."""
  env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
  started = time.perf_counter()
  result = subprocess.run([sys.executable] + argv, cwd=ROOT, env=env, capture_output=True, text=True)
  return {"stdout": result.stdout, "wall_s": round(time.perf_counter() - started, 2), "rc": result.returncode,
          "stderr_tail": result.stderr[-1500:] if result.returncode else ""}


def run_benchmark(name: str, spec: dict, repeat: int, recorded: str | None) -> dict:
  entry = {"name": name, "load_start": load_average(), "started": datetime.datetime.now().isoformat(timespec="seconds"),
           "commands": {side: "python " + shlex.join(argv) for side, argv in spec.items() if argv}, "runs": []}
  if recorded:
    text = pathlib.Path(recorded).read_text()
    entry["recorded_from"] = recorded
    entry["commands"] = {f"recorded {i + 1}": line.split(":", 1)[1].strip()
                         for i, line in enumerate(l for l in text.splitlines() if l.startswith("# command:"))}
    entry["runs"].append({"side": "ours", "repetition": 0, "stdout": text,
                          "wall_s": None, "rc": 0, "stderr_tail": ""})
  else:
    sides = ["ours", "theirs"] if spec["theirs"] else ["ours"]
    for repetition in range(repeat if spec["theirs"] else 1):
      for side in (sides if repetition % 2 == 0 else sides[::-1]):
        outcome = run(spec[side])
        print(f"{name} {side} #{repetition}: rc {outcome['rc']}, {outcome['wall_s']} s", flush=True)
        entry["runs"].append({"side": side, "repetition": repetition, **outcome})
  entry["load_end"] = load_average()
  return entry


# ---- parsing and tables ------------------------------------------------------------------------

def json_lines(text: str) -> list[dict]:
  rows = []
  for line in text.splitlines():
    if line.startswith("{"):
      try:
        rows.append(json.loads(line))
      except json.JSONDecodeError:
        pass
  return rows


def lstm_epoch_value(run: dict) -> float | None:
  if run["side"] == "theirs":
    rows = json_lines(run["stdout"])
    return rows[-1]["epoch_s"] if rows else None
  for line in run["stdout"].splitlines():
    if line.startswith("jax, fixed data:"):
      return float(line.split(":")[1].split()[0])
  return None


def median_of(values):
  values = [v for v in values if v is not None]
  return statistics.median(values) if values else None


def fmt(value, digits=3):
  return "-" if value is None else f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def failures(entry) -> list[str]:
  return [f"- {r['side']} #{r['repetition']} failed (rc {r['rc']}): `{r['stderr_tail'].strip().splitlines()[-1]}`"
          for r in entry["runs"] if r["rc"] and r["stderr_tail"].strip()]


def two_sided_table(entry, metrics: list[tuple[str, callable]], theirs_name: str) -> list[str]:
  """Median of each metric per side and the ratio theirs / ours (above 1: ours faster)."""
  lines = [f"| metric | ours (JAX), median | {theirs_name}, median | {theirs_name} / ours | all ours | all theirs |",
           "|---|---|---|---|---|---|"]
  for label, getter in metrics:
    values = {side: [getter(r) for r in entry["runs"] if r["side"] == side and r["rc"] == 0]
              for side in ("ours", "theirs")}
    ours, theirs = median_of(values["ours"]), median_of(values["theirs"])
    ratio = f"{theirs / ours:.2f}" if ours and theirs else "-"
    lines.append(f"| {label} | {fmt(ours)} | {fmt(theirs)} | {ratio} | "
                 f"{', '.join(fmt(v) for v in values['ours'])} | {', '.join(fmt(v) for v in values['theirs'])} |")
  return lines


def last_json(key):
  def get(run):
    rows = json_lines(run["stdout"])
    return rows[-1].get(key) if rows else None
  return get


def section_lstm_epoch(entry):
  return ["LSTM frequency filter, seconds per epoch after a warm-up epoch (JAX on the fixed data, as the seed; "
          "PyTorch: the seed's loop).", ""] + two_sided_table(entry, [("s / epoch", lstm_epoch_value)], "PyTorch")


def section_tcn_epoch(entry):
  return ["TCN (configs/tcn.py), 2,048 random windows of 30 x 25, batch 32, 512 validation windows; "
          "first epoch (compile / tracing) and the median of 3 more.", ""] + two_sided_table(
              entry, [("first epoch s", last_json("first_epoch_s")), ("s / epoch", last_json("epoch_s_median")),
                      ("ms / step", last_json("ms_per_step"))], "Keras")


def section_sign_lstm_fit(entry):
  ours_fit = lambda r: last_json("fit_seconds")(r)
  return ["Sign LSTM, 229 sequences of 30 x 1662, batch 16, every epoch run. Ours: `fit` (checkpoint every "
          "10 epochs, report included) with BatchNorm + Dropout; Keras: the seed's model (no BatchNorm/Dropout), "
          "model.fit with validation.", ""] + two_sided_table(
              entry, [("whole fit s", ours_fit), ("first epoch s", last_json("first_epoch_seconds")),
                      ("median epoch s", last_json("median_epoch_seconds"))], "Keras")


def section_plain(entry):
  text = "\n".join(r["stdout"] for r in entry["runs"] if r["rc"] == 0)
  return [line for line in text.splitlines() if line.startswith("|")]


def section_scaling(entry):
  rows = [row for r in entry["runs"] for row in json_lines(r["stdout"])]
  lines = ["R runs of one config: vmapped = one `train_many` call with R RunSpecs (or, with runs per program "
           "G, R/G programs of G runs one after another: config.train.runs_per_program); one by one = R calls of one. "
           "Epoch seconds exclude compilation (median of epochs 2 to the last); compile = epoch 1 less that median "
           "(tracing + lowering + XLA); one by one, and groups after the first, load the program from the "
           "persistent cache. "
           "Wall includes everything (init of R states, compile, epochs).", "",
           "| family | data (train/val, shape, batch) | R | runs per program | vmapped s/epoch | one-by-one s/epoch (sum) | "
           "ratio epoch | vmapped compile s | one-by-one compile s (+ cache loads) | vmapped wall s | "
           "one-by-one wall s | ratio wall |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
  for row in rows:
    v, o = row.get("vmapped", {}), row.get("one_by_one", {})
    data = f"{row['train']}/{row['val']}, {'x'.join(map(str, row['shape']))}, {row['batch_size']}"
    loads = f" (+{fmt(o.get('cache_load_s'))})" if o.get("cache_load_s") else ""
    group = row.get("group_size") or "all"
    lines.append(f"| {row['family']} | {data} | {row['runs']} | {group if v else '-'} | {fmt(v.get('epoch_s'))} | "
                 f"{fmt(o.get('epoch_s'))} | "
                 f"{fmt(row.get('ratio_epoch'))} | {fmt(v.get('compile_s'))} | {fmt(o.get('compile_s'))}{loads} | "
                 f"{fmt(v.get('wall_s'))} | {fmt(o.get('wall_s'))} | {fmt(row.get('ratio_wall'))} |")
  return lines


def section_compile(entry):
  rows = [row for r in entry["runs"] for row in json_lines(r["stdout"])]
  lines = ["MaxCRNN at configs/maxcrnn.py's sizes (3000 x 1 windows, batch 64): `jax.jit(f).lower()` and "
           "`.compile()` seconds, StableHLO and optimized HLO text sizes.", "",
           "| variant | program | lower s | compile s | StableHLO chars | optimized HLO chars |",
           "|---|---|---|---|---|---|"]
  for row in rows:
    lines.append(f"| {row['variant']} | {row['program']} | {row['lower_s']} | {row['compile_s']} | "
                 f"{row['stablehlo_chars']:,} | {row['optimized_hlo_chars']:,} |")
  return lines


SECTIONS = {
    "lstm_epoch": ("LSTM filter epoch: JAX vs PyTorch", section_lstm_epoch),
    "tcn_epoch": ("TCN epoch: JAX vs Keras", section_tcn_epoch),
    "sign_lstm_fit": ("Sign-LSTM fit: JAX vs Keras", section_sign_lstm_fit),
    "second_start": ("First vs second start per config (persistent compilation cache)", section_plain),
    "multirun_scaling": ("Vmapped R-run scaling", section_scaling),
    "maxcrnn_compile": ("MaxCRNN compile time per program", section_compile),
}


# results.md from this line on holds the sections of other benchmark scripts, figures copied from the
# output of the commands each section names; a rewrite keeps them as they are.
KEPT = "<!-- Sections below: other benchmark scripts' figures, each with its command; run.py keeps them. -->"


def write_markdown(results: dict) -> None:
  info = results.get("_machine", {})
  lines = ["# Benchmark results", "",
           "Written by `python benchmarks/run.py` (see its docstring). Every number below was measured by the "
           "listed command: run.py's own sections from its runs, the later ones copied from the output of the "
           "command each names.", "",
           "## Machine", "",
           f"- CPU: {info.get('cpu')}, {info.get('cores')} cores; Python {info.get('python')}",
           "- Versions: " + ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items()),
           "- Each section gives the load averages (1, 5 and 15 minutes) at its start and end: on 2 cores, a "
           "load above ~2 means other jobs shared the CPU, and seconds are then slower and noisier (compilation "
           "most of all); ours and theirs alternate so both see a similar load.", ""]
  for name, (title, render) in SECTIONS.items():
    entry = results.get(name)
    lines += [f"## {title}", ""]
    if entry is None:
      lines += ["Not run yet.", ""]
      continue
    when = "merged" if entry.get("recorded_from") else "run"
    lines += [f"{when.capitalize()} {entry['started']}{' (quick)' if entry.get('quick') else ''}; load average "
              f"{entry['load_start']} at start, {entry['load_end']} at end.", ""]
    lines += [f"Note: {note}" for note in entry.get("notes", [])] + ([""] if entry.get("notes") else [])
    lines += [f"- {side}: `{command}`" for side, command in entry["commands"].items()]
    if entry.get("recorded_from"):
      lines.append(f"- not run by run.py: the output of the commands above, kept in {entry['recorded_from']}")
    lines += [""] + render(entry) + [""] + failures(entry) + [""]
  old = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
  kept = old[old.index(KEPT):] if KEPT in old else ""
  RESULTS_MD.write_text("\n".join(lines).rstrip() + "\n" + ("\n" + kept if kept else ""))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
  parser.add_argument("--quick", action="store_true", help="fewer repetitions, epochs and configs")
  parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 3, 1 with --quick)")
  parser.add_argument("--recorded", action="append", default=[], help="NAME=FILE: use FILE as NAME's output")
  parser.add_argument("--note", action="append", default=[], help="NAME=TEXT: a note under NAME's table")
  args = parser.parse_args()
  specs = commands(args.quick)
  names = args.only.split(",") if args.only else list(specs)
  unknown = [n for n in names if n not in specs]
  if unknown:
    raise SystemExit(f"unknown benchmark(s) {unknown}; valid: {sorted(specs)}")
  recorded = dict(item.split("=", 1) for item in args.recorded)
  repeat = args.repeat or (1 if args.quick else 3)
  results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
  results["_machine"] = machine()
  noted = set()
  for item in args.note:
    name, sep, text = item.partition("=")
    if not sep or name not in results or name.startswith("_"):
      raise SystemExit(f"--note {item!r}: expected NAME=TEXT, NAME one of the stored results "
                       f"{sorted(n for n in results if not n.startswith('_'))}")
    results[name].setdefault("notes", []).append(text)
    noted.add(name)
  if noted:  # Kept with the results, so a later run's rewrite of results.md still shows them.
    RESULTS_JSON.write_text(json.dumps(results, indent=1))
  names = [n for n in names if n not in noted]
  for name in names:
    entry = run_benchmark(name, specs[name], repeat, recorded.get(name))
    entry["quick"] = args.quick
    results[name] = entry
    RESULTS_JSON.write_text(json.dumps(results, indent=1))
    write_markdown(results)
  write_markdown(results)


if __name__ == "__main__":
  main()

"""The commands in README.md and docs/*.md run (the rules are in docs/testing.md).

Every code block is read. A `python launch/...` line with no placeholder runs, cheaply (configs as
their :smoke variant, small counts), in a fresh folder per page (holding a link to configs/), in page order, so a train chained
before an evaluate, predict or export gives it its workdir. A line with placeholders is a synopsis:
its script must accept every flag it names. Every `python benchmarks/X.py` must answer --help.
Lines that start with anything but `python` (gcloud, srun, `VAR=value python ...`) are excluded.

Starting Python and importing JAX, scikit-learn and the library takes longer than most of these
commands' smoke runs, so each page's commands run in one warm process (conftest.run_commands).
"""

from __future__ import annotations

import re
import shlex

import pytest

from conftest import ROOT, run_commands

PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
PLACEHOLDER = re.compile(r"\b[A-Z]{3,}\b|\[|\{|\.\.\.")
CAPS = {"--folds": 2, "--seeds": 2, "--config.train.epochs": 3}  # flag: the largest value run
SMOKE_BASELINE = "configs/random_forest.py:smoke"
MAKE_DATA_OPTIONS = {"hht": ["--n_samples", "5", "--n_test", "2", "--num_samples", "512"],
                     "workout": ["--sessions", "5"]}  # later options win in make_data.py


def code_lines(text: str) -> list[str]:
  """Logical lines of the page's code blocks (indented or fenced), continuations joined."""
  lines, fenced, pending = [], False, ""
  for raw in text.splitlines():
    if raw.strip().startswith("```"):
      fenced = not fenced
      continue
    if not (fenced or raw.startswith("    ")):
      continue
    line = pending + raw.strip()
    if line.endswith("\\"):
      pending = line[:-1].rstrip() + " "
      continue
    pending = ""
    if line:
      lines.append(line)
  return lines


def commands(text: str) -> list[str]:
  """The `python launch/...` and `python benchmarks/...` commands of a page, comments removed."""
  found = []
  for line in code_lines(text):
    if line.split()[0] not in ("python", "python3"):
      continue  # cluster launchers and environment-variable prefixes (multi-host runs)
    for part in line.split("&&"):
      part = part.split(" #")[0].strip()
      if re.match(r"python3? (launch|benchmarks)/\w+\.py", part):
        found.append(part)
  return found


def is_synopsis(command: str) -> bool:
  return bool(PLACEHOLDER.search(command))


def cheap(command: str) -> list[str]:
  """argv (without the interpreter) of a cheap form of the command."""
  args = shlex.split(command)[1:]
  out = []
  for i, arg in enumerate(args):
    flag, eq, value = arg.partition("=")
    if re.fullmatch(r"(.*/)?configs/\w+\.py(:\w+)?", arg):
      arg = arg.split(":")[0] + ":smoke"
    elif flag == "--configs" and eq:
      arg = "--configs=" + ",".join(name.split(":")[0] + ":smoke" for name in value.split(","))
    elif flag in CAPS and eq:
      arg = f"{flag}={min(int(value), CAPS[flag])}"
    elif i and args[i - 1] in CAPS:
      arg = str(min(int(arg), CAPS[args[i - 1]]))
    elif i and args[i - 1] == "--configs":
      arg = ",".join(name.split(":")[0] + ":smoke" for name in arg.split(","))
    elif flag == "--datasets" and eq:
      arg = "--datasets=" + value.split(",")[0]
    elif i and args[i - 1] == "--datasets":
      arg = arg.split(",")[0]  # the first dataset only
    out.append(arg)
  if out[0] == "launch/make_data.py":
    out += MAKE_DATA_OPTIONS.get(out[1], [])
  if "baseline" in flags_defined(out[0]) and not any(re.match(r"--(no)?(use_)?baseline", a) for a in out):
    out.append(f"--baseline={SMOKE_BASELINE}")  # the default baseline's smoke variant, as the config's
  return out


def flags_of(command: str) -> set[str]:
  """The flag names a command uses (`--config.a.b=1` -> config, `--notflm` -> tflm); `--option`
  (make_data.py's stand-in for a generator's options) is a placeholder."""
  names = set()
  for arg in shlex.split(command.replace("[", " ").replace("]", " ")):
    match = re.match(r"--(no(?=tflm|int8_io|dynamic_batch|cpu))?([a-z_]\w*)", arg)
    if match and match.group(2) != "option":
      names.add(match.group(2))
  return names


def _stateless(argv: list[str]) -> bool:
  """No relative path other than a config: the command neither reads nor leaves a page's files."""
  return not any(re.search(r"(^|=)(runs|data)/|\.(json|npz)$", arg) for arg in argv)


def runnable(page) -> list[tuple[str, list[str]]]:
  """(command, cheap argv) of the page's runnable launch commands, in page order, less the stateless
  ones an earlier page (in PAGES order) already runs: each runs once whichever worker takes the page."""
  seen = set()
  for earlier in PAGES[:PAGES.index(page)]:
    seen |= {" ".join(cheap(c)) for c in commands(earlier.read_text()) if not is_synopsis(c)}
  found = []
  for command in commands(page.read_text()):
    if is_synopsis(command) or not command.split()[1].startswith("launch/"):
      continue
    argv = cheap(command)
    if not (_stateless(argv) and " ".join(argv) in seen):
      found.append((command, argv))
  return found


def _page_id(page):
  return str(page.relative_to(ROOT))


# ---- the rules themselves -----------------------------------------------------------------------

def test_extraction_and_rewriting_rules():
  text = ("Intro `python launch/cv.py` inline is prose.\n\n"
          "    python3 -m venv .venv && . .venv/bin/activate && python launch/train.py --config configs/tcn.py\n"
          "    python launch/cv.py --config configs/maxcrnn.py:small \\\n        --folds 5   # comment\n"
          "    srun --nodes=4 python launch/sweep.py --config configs/sign_lstm.py\n"
          "    JAX_PROCESS_ID=0 python launch/cv.py ...\n"
          "```\npython benchmarks/run.py [--only NAME]\n```\n")
  found = commands(text)
  assert found == ["python launch/train.py --config configs/tcn.py",
                   "python launch/cv.py --config configs/maxcrnn.py:small --folds 5",
                   "python benchmarks/run.py [--only NAME]"]
  assert [is_synopsis(c) for c in found] == [False, False, True]
  assert cheap(found[1]) == ["launch/cv.py", "--config", "configs/maxcrnn.py:smoke", "--folds", "2",
                             f"--baseline={SMOKE_BASELINE}"]
  assert cheap("python launch/transfer.py --config configs/maxcrnn.py --nouse_baseline") == [
      "launch/transfer.py", "--config", "configs/maxcrnn.py:smoke", "--nouse_baseline"]
  assert cheap("python launch/benchmark.py --configs minirocket,sign_lstm:small --datasets A,B "
               "--config.train.epochs=40") == ["launch/benchmark.py", "--configs", "minirocket:smoke,sign_lstm:smoke",
                                               "--datasets", "A", "--config.train.epochs=3"]
  assert flags_of("python launch/export.py --workdir DIR [--int8_io] --notflm --config.mesh.axis=data") == {
      "workdir", "int8_io", "tflm", "config"}


def test_readme_names_both_tiers_ci_runs_its_command_and_it_links_every_page():
  readme = (ROOT / "README.md").read_text()
  assert 'python -m pytest -q -m "not slow" -n 2' in readme
  ci = (ROOT / ".ci" / "run").read_text()
  test_command = next(line for line in code_lines(readme) if "pytest" in line and "pip install" in line)
  assert test_command.split("&& ")[-1] in ci.splitlines(), "CI must run exactly the README's test command"
  assert len(readme.splitlines()) <= 150
  linked = set(re.findall(r"\(docs/(\w+\.md)\)", readme))
  assert linked == {page.name for page in PAGES[1:]}, "every docs page is linked from the README"


# ---- the pages ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_benchmark_scripts_exist_and_answer_help(tmp_path):
  scripts = sorted({shlex.split(c)[1] for page in PAGES for c in commands(page.read_text())
                    if c.split()[1].startswith("benchmarks/")})
  assert scripts
  for script in scripts:
    assert (ROOT / script).is_file(), f"{script} is named in the docs but does not exist"
  results = run_commands([[script, "--help"] for script in scripts], ROOT, tmp_path, timeout=120,
                         stop_on_failure=False)
  for script, (code, stdout, stderr) in zip(scripts, results):
    assert code == 0 and "usage" in (stdout + stderr).lower(), (script, code, stderr[-3000:])


def flags_defined(script: str) -> set[str]:
  """The flags a launch script defines, read from its source (absl DEFINE_* and argparse)."""
  source = (ROOT / script).read_text()
  return set(re.findall(r"DEFINE_\w+\(\s*\"(\w+)\"", source)) | set(re.findall(r"add_argument\(\"--(\w+)\"", source))


def test_synopses_name_scripts_and_flags_that_exist():
  synopses = [(page, command) for page in PAGES for command in commands(page.read_text())
              if command.split()[1].startswith("launch/") and is_synopsis(command)]
  assert len(synopses) >= 10
  for page, command in synopses:
    script = shlex.split(command)[1]
    assert (ROOT / script).is_file(), f"{_page_id(page)}: {script} does not exist"
    missing = flags_of(command) - flags_defined(script)
    assert not missing, f"{_page_id(page)}: `{command}`: {script} defines no {sorted(missing)}"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_commands_run(page, tmp_path):
  (tmp_path / "configs").symlink_to(ROOT / "configs")  # relative config paths resolve as in the checkout
  ran = runnable(page)
  argvs = [argv for _, argv in ran]
  results = run_commands(argvs, tmp_path, tmp_path / ".logs") if argvs else []
  for (command, argv), (code, stdout, stderr) in zip(ran, results):
    assert code == 0, (f"{_page_id(page)}: `{command}` (run as {' '.join(argv)}) exited with "
                       f"{code}:\n{stdout[-2000:]}\n{stderr[-3000:]}")
  assert len(results) == len(argvs)
  if page.name in ("README.md", "data.md", "export.md", "runs.md"):
    assert ran, f"{_page_id(page)} should hold runnable commands"

"""The import graph of research/ and launch/, read from the source (nothing is imported): no cycles,
and no module imports a floor above its own; and what one run without a network imports. Floors, top to bottom: launch -> studies, export ->
train -> heads, evaluation -> models, tasks, data -> errors, config helpers.

Every `import` and `from ... import` statement counts, at module level or inside a function. An edge
goes to the module that is named: `from research.data import npz` is an edge to research.data.npz
when that is a module, else (a name defined in the package) to research.data itself. A module's
implicit import of its own parent packages is not an edge (Python runs every package's __init__
before its submodules, so counting it would make every package that imports its submodules a cycle).
"""

from __future__ import annotations

import ast
import functools
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "research"

# Floors, top to bottom. A module's floor is that of the longest prefix naming it (a prefix matches
# the module itself or anything under it). Adjust this table, not the test, when modules move.
FLOORS = {
    "launch": 5,
    "research.cli": 5,
    "research.studies": 4,
    "research.estimators": 4,  # the scikit-learn API over the run path, beside the studies
    "research.export": 4,
    "research.train": 3,
    "research.heads": 2,
    "research.evaluation": 2,
    "research.models": 1,
    "research.tasks": 1,
    "research.data": 1,
    "research": 0,  # the package itself and its bottom floor: errors, config_*, compile_cache,
    # distributed, workdir
}
# Heavy optional dependencies and the only place that may import them (the `export` extra).
CONFINED = {"tensorflow": "research.export", "ai_edge_litert": "research.export",
            "tflite_micro": "research.export", "tflite_runtime": "research.export"}
FLOOR_NAMES = {5: "launch", 4: "studies, export", 3: "train", 2: "heads, evaluation",
               1: "models, tasks, data", 0: "errors, config helpers"}


def module_name(path: pathlib.Path) -> str:
  parts = list(path.relative_to(ROOT).with_suffix("").parts)
  if parts[-1] == "__init__":
    parts.pop()
  return ".".join(parts)


def source_modules() -> dict[str, pathlib.Path]:
  """{dotted name: file} for every module of the package and every launch script."""
  files = sorted((ROOT / PACKAGE).rglob("*.py")) + sorted((ROOT / "launch").glob("*.py"))
  return {module_name(path): path for path in files}


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
  """The absolute name a (possibly relative) `from X import` refers to."""
  if not node.level:
    return node.module or ""
  base = module.split(".") if is_package else module.split(".")[:-1]
  base = base[:len(base) - (node.level - 1)]
  return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: pathlib.Path, known: set[str], third_party: bool = False) -> dict[str, int]:
  """{imported module of ours: first line number} for every import statement in the file; with
  `third_party`, {top-level package: line} of everything else it imports instead."""
  found: dict[str, int] = {}

  def add(name: str, line: int):
    if third_party:
      if name and name.split(".")[0] not in (PACKAGE, "launch"):
        found.setdefault(name.split(".")[0], line)
      return
    # The longest known prefix: `import research.data.npz as n` names research.data.npz.
    while name and name not in known:
      name = name.rpartition(".")[0]
    if name and name != module:
      found.setdefault(name, line)

  for node in ast.walk(ast.parse(path.read_text(), str(path))):
    if isinstance(node, ast.Import):
      for alias in node.names:
        add(alias.name, node.lineno)
    elif isinstance(node, ast.ImportFrom):
      if node.level and third_party:
        continue
      base = _absolute(module, node, path.name == "__init__.py")
      for alias in node.names:
        submodule = f"{base}.{alias.name}"
        add(submodule if submodule in known else base, node.lineno)
  return found


@functools.cache
def import_graph() -> dict[str, dict[str, int]]:
  modules = source_modules()
  known = set(modules)
  return {name: imports_of(name, path, known) for name, path in modules.items()}


def floor_of(module: str) -> int:
  matches = [prefix for prefix in FLOORS if module == prefix or module.startswith(prefix + ".")]
  if not matches:
    raise AssertionError(f"{module} matches no prefix in FLOORS; add one")
  return FLOORS[max(matches, key=len)]


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
  """One cycle per strongly connected component of more than one module (Tarjan), as a path."""
  index, low, stack, on_stack, components = {}, {}, [], set(), []

  def visit(node):  # the package has a few hundred modules: recursion depth is no concern
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for target in sorted(graph[node]):
      if target not in index:
        visit(target)
        low[node] = min(low[node], low[target])
      elif target in on_stack:
        low[node] = min(low[node], index[target])
    if low[node] == index[node]:
      component = []
      while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
          break
      if len(component) > 1:
        components.append(set(component))

  for node in sorted(graph):
    if node not in index:
      visit(node)
  return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph, component: set[str]) -> list[str]:
  """A shortest cycle through the component's first module (breadth-first inside the component)."""
  start = min(component)
  parents, frontier = {start: None}, [start]
  while frontier:
    following = []
    for node in frontier:
      for target in sorted(graph[node]):
        if target == start:
          path = [node]
          while parents[path[-1]] is not None:
            path.append(parents[path[-1]])
          return path[::-1] + [start]
        if target in component and target not in parents:
          parents[target] = node
          following.append(target)
    frontier = following
  raise AssertionError(f"no cycle through {start} in {sorted(component)}")


def upward_imports(graph) -> list[str]:
  """'importer (floor) -> imported (floor), line N' for every import of a higher floor."""
  found = []
  for module, targets in sorted(graph.items()):
    for target, line in sorted(targets.items()):
      if floor_of(target) > floor_of(module):
        found.append(f"{module} (floor {floor_of(module)}: {FLOOR_NAMES[floor_of(module)]}) imports "
                     f"{target} (floor {floor_of(target)}: {FLOOR_NAMES[floor_of(target)]}), line {line}")
  return found


# ---- the checker itself, on small graphs --------------------------------------------------------

def test_cycle_finder_reports_a_cycle_and_only_cycles():
  graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1, "d": 1}, "d": {}, "e": {"d": 1}}
  assert find_cycles(graph) == [["a", "b", "c", "a"]]
  assert find_cycles({"a": {"b": 1}, "b": {}, "c": {"a": 1}}) == []


def test_imports_are_read_from_functions_and_relative_forms(tmp_path):
  path = tmp_path / "mod.py"
  path.write_text("import research.data.npz as n\nfrom . import sibling\nfrom .sibling import thing\n"
                  "def f():\n  from research.train import mesh\n  from research.train import fit\n")
  known = {"research.data", "research.data.npz", "research.pkg", "research.pkg.mod", "research.pkg.sibling",
           "research.train", "research.train.mesh"}
  assert imports_of("research.pkg.mod", path, known) == {
      "research.data.npz": 1, "research.pkg.sibling": 2, "research.train.mesh": 5, "research.train": 6}


def test_floor_table_uses_the_longest_prefix():
  assert floor_of("research.errors") == 0 and floor_of("research.train.mesh") == 3
  assert floor_of("research.export.c") == 4 and floor_of("launch.train") == 5
  assert floor_of("research.trainer") == 0  # a prefix matches whole name parts only


# ---- the codebase -------------------------------------------------------------------------------

def test_every_module_has_a_floor_and_parses():
  graph = import_graph()
  assert len(graph) > 20 and "research.train" in graph
  for module in graph:
    floor_of(module)


def test_no_import_cycles():
  cycles = find_cycles(import_graph())
  assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_no_module_imports_a_floor_above_its_own():
  violations = upward_imports(import_graph())
  assert not violations, ("imports of a higher floor (FLOORS in tests/test_imports.py):\n" + "\n".join(violations))


def test_export_dependencies_are_imported_only_by_export():
  modules = source_modules()
  found = []
  for module, path in sorted(modules.items()):
    for package, line in imports_of(module, path, set(modules), third_party=True).items():
      home = CONFINED.get(package)
      if home and not (module == home or module.startswith(home + ".")):
        found.append(f"{module} imports {package} (line {line}); only {home} may")
  assert not found, "\n".join(found)


def test_test_folders_mirror_the_packages():
  """tests/<package>/ holds the tests of research/<package>/; the root holds cross-cutting ones."""
  folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and not p.name.startswith((".", "__"))}
  packages = {p.name for p in (ROOT / "research").iterdir() if (p / "__init__.py").is_file()}
  assert folders and folders <= packages, f"test folders without a research package: {sorted(folders - packages)}"


def test_a_run_without_a_network_imports_no_network_library(tmp_path):
  """A feature map and a head (MiniRocket's smoke run) train without flax, optax, orbax or the
  engine: together they take 0.2 s of such a run's start (research/train/specs.py)."""
  heavy = ("flax", "optax", "orbax", "research.train.engine", "research.train.loop", "research.models")
  script = ("import runpy, sys\n"
            f"sys.argv = ['train', '--config=configs/minirocket.py:smoke', '--workdir={tmp_path}']\n"
            "try:\n  runpy.run_path('launch/train.py', run_name='__main__')\n"
            "except SystemExit as done:\n  assert not done.code, done.code\n"
            f"print('IMPORTED', sorted(m for m in {heavy!r} if m in sys.modules))\n")
  result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert (tmp_path / "report.json").is_file()
  assert "IMPORTED []" in result.stdout, result.stdout[-500:]

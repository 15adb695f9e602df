"""benchmarks/run.py rewrites results.md from its own results and keeps the sections below its marker."""

from __future__ import annotations

import importlib.util

from conftest import ROOT


def _run_module():
  spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_rewrite_keeps_the_sections_below_the_marker(tmp_path, monkeypatch):
  run = _run_module()
  results_md = tmp_path / "results.md"
  monkeypatch.setattr(run, "RESULTS_MD", results_md)
  kept = f"{run.KEPT}\n\n## From another script\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
  results_md.write_text("# Benchmark results\n\n## An old run.py section\n\nstale figures\n\n" + kept)
  run.write_markdown({})
  text = results_md.read_text()
  assert text.endswith(kept)
  assert "stale figures" not in text and text.count(run.KEPT) == 1
  assert text.startswith("# Benchmark results") and "Not run yet." in text
  run.write_markdown({})  # a second rewrite changes nothing
  assert results_md.read_text() == text


def test_rewrite_without_the_marker_writes_only_its_own_sections(tmp_path, monkeypatch):
  run = _run_module()
  monkeypatch.setattr(run, "RESULTS_MD", tmp_path / "results.md")
  (tmp_path / "results.md").write_text("# old\n\nhand-written text with no marker\n")
  run.write_markdown({})
  text = (tmp_path / "results.md").read_text()
  assert "hand-written" not in text and run.KEPT not in text

"""Tests share JAX's persistent compilation cache (research.compile_cache), so a program that many
tests compile (the smoke configs' steps) is compiled once per machine."""

from research import compile_cache

compile_cache.enable()

"""Benchmarks of the linkage toolkit (run from the repository root; see benchmarks/README.md)."""

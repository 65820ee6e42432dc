"""Benchmarks and evaluations run with `make eval-sources` (not part of the test suite)."""

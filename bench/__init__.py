"""Benchmarks (`make bench`, see bench/README.md) and evaluations (`make eval-sources`).

Not part of the test suite; `pytest bench` checks the benchmark harness itself.
"""

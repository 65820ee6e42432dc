"""Shared concurrency machinery the stages use: a CPU worker pool and request coalescing."""

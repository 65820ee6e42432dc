"""Orchestration: one poll, one round, the daemon, and the resources they share."""

"""Pure values and logic: items and signals, identity, stories, schedules, errors; no I/O."""

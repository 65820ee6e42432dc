"""Supply Watcher: supply-shock signals in rare earths and critical minerals, by email."""

__version__ = "0.1.0"

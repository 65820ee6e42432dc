"""Operations: logging, metrics, the probe HTTP server and the process's memory settings."""

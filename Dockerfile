# Supply Watcher container: runs `watcher run` as a non-root user.
# Mount points: /app/config (the configuration, read-only is fine) and /data (SQLite, mail drop).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WATCHER_CONFIG=/app/config/watcher.yaml \
    WATCHER_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install . && useradd --system --uid 10001 --home-dir /app watcher \
    && mkdir -p /data && chown watcher /data
COPY config ./config
COPY seeds ./seeds

USER watcher
VOLUME ["/data"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["watcher"]
CMD ["run"]

# Supply Watcher: a small image that runs `watcher run` as a non-root user under tini.
#   config: /app/config (mount your own, read-only is fine)   state: /data (volume)
#   probes: http://<container>:8080/healthz, /readyz, /metrics

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Pinned versions first (the same lock CI installs), so this layer caches across code edits.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install --no-deps . && watcher --help > /dev/null

FROM python:3.12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --home-dir /app watcher \
    && mkdir -p /data \
    && chown watcher /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WATCHER_CONFIG=/app/config/watcher.yaml \
    WATCHER_DATA_DIR=/data \
    WATCHER_WEB__HOST=0.0.0.0 \
    WATCHER_WEB__PORT=8080 \
    WATCHER_LOG__FORMAT=json
WORKDIR /app
COPY config ./config
COPY seeds ./seeds
USER watcher
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "watcher"]
CMD ["run"]

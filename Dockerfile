# Supply Watcher: a slim image that runs `watcher run` as a non-root user under tini.
#   config: /app/config/watcher.yaml (+ rules.yaml; mount your own folder, read-only is fine)
#   state: /data (volume)   probes: http://<container>:8080/healthz, /readyz, /metrics
#   build: docker build -t supply-watcher .   (or `make image`; README, "The image")
#   full-text extraction (trafilatura, 56 MB more): --build-arg EXTRAS=fulltext
#
# Debian's own Python (trixie: 3.13) on debian:trixie-slim, in both stages: the virtualenv
# built in the first runs unchanged in the second, which gets no pip, compiler or apt lists.
# The build stage has a C compiler and Python's headers: installing the project compiles
# the classifier's hot modules with mypyc (setup.py, watcher/compiled.py).

FROM debian:trixie-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv python3-dev gcc libc6-dev ca-certificates binutils \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Pinned versions first (the same locks CI installs), so these layers cache across code
# edits. requirements.lock is the service; requirements-EXTRA.lock the service and EXTRA.
# Then what the service never runs goes (tests, C sources, stubs, debug symbols: -22 MB;
# OpenCC's command-line tools, headers and static libraries: -4.7 MB), and every compiled
# module is imported once, which proves the stripped files still load.
COPY requirements.lock requirements-fulltext.lock /src/
ARG EXTRAS=""
RUN lock="/src/requirements${EXTRAS:+-$EXTRAS}.lock" \
    && { [ -f "$lock" ] || { echo "EXTRAS=$EXTRAS: no $lock (known: fulltext)" >&2; exit 1; }; } \
    && pip install --no-compile -r "$lock" \
    && cd /opt/venv/lib/python3*/site-packages \
    && rm -rf */tests */*/tests */*/*/tests sqlalchemy/testing asyncpg/_testbase \
    && find . \( -name '*.c' -o -name '*.h' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pyi' \) \
        -delete \
    && find . -name '*.so*' -type f -exec strip --strip-unneeded {} + \
    && rm -rf opencc/clib/bin opencc/clib/include opencc/clib/lib64 \
    && find . -name '*.so' ! -path '*.libs/*' | sed -e 's|^\./||' -e 's|\.[^/]*\.so$||' -e 's|/|.|g' \
        | xargs python -c 'import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]'
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY watcher ./watcher
COPY config/container.yaml config/rules.yaml ./config/
# The project (its mypyc extensions built and stripped, the smoke run below runs them),
# then pip leaves (the service installs nothing). Bytecode is written for
# what the service imports, by running it once on the image's config (and by importing
# the PostgreSQL driver): the venv is read-only to the service, which would otherwise
# compile those modules at every start (~1 s more per start), and modules it never
# imports get none (-9 MB). OpenCC converts with what is left of it (its t2s tables).
RUN pip install --no-compile --no-deps . \
    && cd /opt/venv/lib/python3*/site-packages \
    && find watcher_compiled__mypyc*.so watcher -name '*.so' -exec strip --strip-unneeded {} + \
    && python -c 'import watcher.classify.engine as e; assert e.__file__.endswith(".so"), e.__file__' \
    && cd /src \
    && pip uninstall --quiet -y pip \
    && WATCHER_DATA_DIR=/tmp/smoke watcher run --once --config config/container.yaml > /dev/null \
    && python -c 'import sqlalchemy.dialects.postgresql.asyncpg' \
    && python -c 'import opencc; assert opencc.OpenCC("t2s").convert("暫停實施") == "暂停实施"' \
    && rm -rf /tmp/smoke

FROM debian:trixie-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 tini ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/*.log /var/cache/debconf/*-old \
        /var/lib/dpkg/*-old \
    && useradd --uid 10001 --user-group --no-create-home --no-log-init --home-dir /app \
        --shell /usr/sbin/nologin watcher \
    && mkdir -p /data \
    && chown watcher:watcher /data
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
# A starting point for real use, not the demo (that is config/watcher.yaml, which
# docker-compose.yml mounts): no sources, no subscribers.
COPY config/rules.yaml ./config/rules.yaml
COPY config/container.yaml ./config/watcher.yaml
USER watcher
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "watcher"]
CMD ["run"]

# syntax=docker/dockerfile:1
#
# bachbot's container image: `docker compose up -d` (see docker-compose.yml).
#
# Two stages: the builder turns the project and the exact versions pinned in
# constraints.txt into wheels; the runtime stage installs only those wheels,
# offline, so the image holds no compiler, no pip cache, no source tree and no
# test suite. Size (built by tests/deploy/compose_smoke.py): see the README.
# The image bakes in no secret: Spotify credentials, the database password and
# the status-page token come from the environment (.env) at run time.
# It runs as an unprivileged user and writes only to /data (a volume) and /tmp,
# so it works with a read-only root filesystem.
# Preview analysis needs no system package: soundfile's wheel carries libsndfile
# (with its MP3 decoder) and numba's and llvmlite's wheels carry LLVM. numba
# caches what it compiles for librosa under NUMBA_CACHE_DIR (beside the library
# by default, which is read-only here), so the compile happens once per volume.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY service ./service
COPY jobs ./jobs
COPY models ./models
COPY bench ./bench
# Wheels for bachbot and every runtime dependency, at the versions of the lock.
RUN pip wheel --no-cache-dir --wheel-dir /wheels --constraint constraints.txt .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/data \
    XDG_CACHE_HOME=/tmp/.cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    MPLBACKEND=Agg \
    NUMBA_CACHE_DIR=/data/cache/numba \
    BACHBOT_DATA_DIR=/data \
    BACHBOT_HTTP_HOST=0.0.0.0 \
    BACHBOT_HTTP_PORT=8888
RUN groupadd --system --gid 10001 bachbot \
    && useradd --system --uid 10001 --gid bachbot --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin bachbot \
    && mkdir /data \
    && chown bachbot:bachbot /data \
    && chmod 0700 /data
# The libraries' own test suites (numpy, scipy, scikit-learn, matplotlib: about
# 70 MB with their bytecode) are never imported by bachbot; they go in the same
# layer as the install, or they would stay in the image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl \
    && find "$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
       -depth -type d -name tests -exec rm -rf {} +
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8888
# The daemon answers GET /healthz; python's urllib avoids shipping curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BACHBOT_HTTP_PORT', '8888'), timeout=8)"]
CMD ["bachbot", "run"]

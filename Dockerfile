# minping: `docker build -t minping .` — see deploy/ and the README's "Deployment".
# Two stages: the first builds the virtual environment, the second gets only that venv
# (no pip cache, no build files) and runs as an unprivileged user.

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/minping
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY storage ./storage
COPY reports ./reports
# Wheels where there are (psycopg binary, matplotlib, numpy); the few pure-Python
# sdists (fontmeta) build without a compiler.
RUN /opt/minping/bin/pip install --prefer-binary --no-compile . \
    && /opt/minping/bin/python -m compileall -q /opt/minping/lib

FROM python:3.11.11-slim-bookworm
LABEL org.opencontainers.image.title="minping" \
      org.opencontainers.image.description="民评: public evaluation of officials and government units in Telegram"
# pg_dump and pg_restore for `minping backup` / `restore` (Debian's, the major version of
# the compose file's PostgreSQL); security updates come with the Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/minping --create-home minping
COPY --from=build /opt/minping /opt/minping
COPY examples /opt/minping/examples
# The CJK font of the charts comes inside the mplfonts package (no system font needed);
# matplotlib keeps its cache in a writable place.
ENV PATH=/opt/minping/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    MINPING_LISTEN=0.0.0.0:8080 \
    DATABASE_URL=sqlite:////var/lib/minping/minping.db
USER 10001:10001
WORKDIR /var/lib/minping
VOLUME ["/var/lib/minping"]
EXPOSE 8080
# Alive = the web server answers (compose checks /readyz for traffic). MINPING_LISTEN
# keeps the web server (health, metrics) on in polling mode too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# `minping run` stops gracefully on SIGTERM within 10 s (docker stop's default wait).
STOPSIGNAL SIGTERM
ENTRYPOINT ["minping"]
CMD ["run"]

# BASE_IMAGE: any Python 3.11+ image with pip (a registry mirror's copy, say).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first, so code changes don't reinstall them. requirements.lock pins every
# package, transitive ones included; requirements.txt names the runtime ones (the lock also
# holds the test and lint tools, which the image does not need).
COPY requirements.txt requirements.lock pyproject.toml README.md ./
RUN pip install -c requirements.lock -r requirements.txt

COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 koala \
    && mkdir -p /app/data && chown koala:koala /app/data

USER koala
VOLUME ["/app/data"]
# Health and metrics: in polling mode on METRICS_PORT, which the image turns on (inside a
# container, on all interfaces: publish the port only to your monitoring network).
ENV METRICS_PORT=9090 METRICS_HOST=0.0.0.0
EXPOSE 9090
# The webhook server serves /healthz itself when WEBHOOK_URL is set (on WEBHOOK_PORT).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD python -c "import os, sys, urllib.request; \
port = os.environ.get('WEBHOOK_PORT', '8080') if os.environ.get('WEBHOOK_URL') else os.environ.get('METRICS_PORT', '9090'); \
sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=8).status == 200 else 1)"
# SIGTERM (docker stop) lets the bot finish the current poll tick and the updates it is
# handling; give it longer than Docker's default 10 s if a slow provider is common.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first, so code changes don't reinstall them.
COPY requirements.txt pyproject.toml README.md ./
RUN pip install -r requirements.txt

COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 koala \
    && mkdir -p /app/data && chown koala:koala /app/data

USER koala
VOLUME ["/app/data"]
CMD ["python", "-m", "bot"]

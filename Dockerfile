# byok: the service image. `byok serve` applies migrations, then serves on port 8080.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BYOK_HOST=0.0.0.0 \
    BYOK_PORT=8080 \
    BYOK_DATA_DIR=/data

RUN useradd --system --uid 10001 --home-dir /app byok \
    && mkdir -p /app /data && chown byok /data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .

USER byok
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2).status == 200 else 1)"
CMD ["byok", "serve"]

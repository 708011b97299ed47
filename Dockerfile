# hypertool-exporter: slim, non-root image serving /metrics on 9464.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY exporter ./exporter
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/hypertool --create-home hypertool
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER hypertool
ENV HYPERTOOL_JOURNAL=/var/lib/hypertool/journal.sqlite \
    HYPERTOOL_HOST=0.0.0.0 \
    HYPERTOOL_PORT=9464
EXPOSE 9464
VOLUME ["/var/lib/hypertool"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=2)"]
ENTRYPOINT ["hypertool-exporter"]
CMD ["serve"]

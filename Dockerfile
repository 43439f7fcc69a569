# rftoy, the hosted demo. CPU image by default; the CUDA image with --build-arg TORCH_VARIANT=cu128 (or another
# CUDA index PyTorch publishes for TORCH_VERSION), run with `docker run --gpus all`. See README.md, "Docker".
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_VARIANT=cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN pip install --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" "torch==${TORCH_VERSION}"

# The package carries the page and the WGSL files (rftoy/static/), so the sources go once installed.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY web ./web
COPY shaders ./shaders
RUN pip install ".[postgres]" && rm -rf /app/*

RUN useradd --system --uid 10001 --create-home --home-dir /data rftoy
USER rftoy

ENV PORT=8000 \
    RFTOY_HOST=0.0.0.0 \
    RFTOY_DEVICE=auto \
    RFTOY_DATABASE=/data/rftoy.sqlite3
VOLUME /data
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-m", "rftoy.api.healthcheck"]
CMD ["sh", "-c", "exec rftoy serve --port \"$PORT\""]

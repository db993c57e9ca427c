FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY eterna ./eterna
COPY schema ./schema
COPY tasks ./tasks
COPY models ./models
COPY migrations ./migrations
RUN pip install --no-cache-dir ".[otel]" && useradd --create-home eterna
USER eterna
EXPOSE 8000
CMD ["eterna", "serve", "--host", "0.0.0.0"]

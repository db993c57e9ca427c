"""OpenTelemetry tracing: off unless the standard ``OTEL_*`` variables ask for it.

The code that opens spans (the queue, the engine, the GraphQL operations) uses only the
OpenTelemetry API, which does nothing until a tracer provider is installed. This module
installs one - the SDK, an OTLP exporter and the asyncpg, Redis and httpx instrumentations -
when :func:`tracing_wanted` says so. The SDK and the instrumentations are the ``otel``
extra (``pip install 'eterna[otel]'``): without them a process that is asked to trace says
how to get them and stops, rather than run silently untraced.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from eterna.application import spans

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger(__name__)

# The variables that name where spans go; any of them switches tracing on.
EXPORTER_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
)
MISSING_SDK = (
    "tracing is asked for by the OTEL_* variables but the OpenTelemetry SDK is not "
    "installed: pip install 'eterna[otel]', or unset {names}"
)


class TracingUnavailableError(RuntimeError):
    """Tracing was asked for and the SDK or an instrumentation is not installed."""


def tracing_wanted(env: Mapping[str, str]) -> bool:
    """Tell whether the environment asks for traces.

    On when any of :data:`EXPORTER_VARIABLES` is set (``OTEL_TRACES_EXPORTER=none`` is off),
    unless ``OTEL_SDK_DISABLED`` is ``true``: the rule of the OpenTelemetry specification's
    variables, with "nothing set" meaning off.
    """
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(env.get(name, "").strip() for name in EXPORTER_VARIABLES)


@dataclass
class Tracing:
    """Tracing installed in this process: what to flush and undo when it stops."""

    provider: TracerProvider
    processor: SpanProcessor
    instrumentors: list[Any] = field(default_factory=list)

    def close(self) -> None:
        """Export what is buffered, stop exporting, and remove the instrumentations."""
        self.processor.shutdown()
        for instrumentor in self.instrumentors:
            instrumentor.uninstrument()
        self.instrumentors.clear()
        if self in _open:
            _open.remove(self)
        if not _open:
            spans.disable()


# Tracing started and not closed in this process (the global provider itself stays).
_open: list[Tracing] = []


def flush_tracing(timeout_millis: int = 5000) -> None:
    """Export the spans every open tracing of this process holds in its buffer, now.

    For a process about to end without running its exit handlers (where the SDK's own flush
    lives): uvicorn stops a server on SIGTERM and then raises the signal again, which kills
    the process with what the batch processor still buffers.
    """
    for tracing in _open:
        tracing.processor.force_flush(timeout_millis)


def tracing_active() -> bool:
    """Tell whether this process traces (an app built now gets its request spans)."""
    return bool(_open)


def start_tracing(
    service: str, *, exporter: SpanExporter | None = None, batch: bool = True
) -> Tracing:
    """Install the SDK with ``exporter`` (OTLP over HTTP by default) and instrument libraries.

    The OTLP exporter reads its endpoint, headers and protocol details from the standard
    variables; ``OTEL_SERVICE_NAME`` overrides ``service``. A process may install only one
    global provider: a second call adds its exporter to the first's provider (tests).

    :raises TracingUnavailableError: when the ``otel`` extra is not installed.
    """
    try:
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
            BatchSpanProcessor,
            SimpleSpanProcessor,
        )
    except ImportError as exc:
        names = ", ".join(EXPORTER_VARIABLES)
        raise TracingUnavailableError(MISSING_SDK.format(names=names)) from exc
    if exporter is None:
        exporter = _exporter_named(os.environ.get("OTEL_TRACES_EXPORTER", ""))
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        trace.set_tracer_provider(provider)
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    tracing = Tracing(provider, processor, _instrument(provider))
    _open.append(tracing)
    spans.enable()
    return tracing


def _exporter_named(name: str) -> SpanExporter:
    """Return the exporter OTEL_TRACES_EXPORTER names: ``otlp`` (the default) or ``console``.

    :raises TracingUnavailableError: for any other name (one exporter a process).
    """
    name = name.strip().lower() or "otlp"
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter  # noqa: PLC0415

        return ConsoleSpanExporter()
    if name != "otlp":
        raise TracingUnavailableError(
            f"OTEL_TRACES_EXPORTER={name!r} is not supported: use otlp, console or none"
        )
    return _otlp_exporter()


def _otlp_exporter() -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
    except ImportError as exc:
        names = ", ".join(EXPORTER_VARIABLES)
        raise TracingUnavailableError(MISSING_SDK.format(names=names)) from exc
    return OTLPSpanExporter()


def _instrument(provider: TracerProvider) -> list[Any]:
    """Trace every asyncpg query, Redis command and httpx request of this process."""
    try:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor  # noqa: PLC0415
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: PLC0415
        from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415
    except ImportError as exc:
        names = ", ".join(EXPORTER_VARIABLES)
        raise TracingUnavailableError(MISSING_SDK.format(names=names)) from exc
    done: list[Any] = []
    instrumentors: tuple[Any, ...] = (
        AsyncPGInstrumentor(),  # type: ignore[no-untyped-call]  # untyped in the library
        RedisInstrumentor(),
        HTTPXClientInstrumentor(),
    )
    for instrumentor in instrumentors:
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
            done.append(instrumentor)
    return done


class TracedRequests:
    """ASGI middleware: a server span per HTTP request and websocket (W3C context in)."""

    def __init__(self, app: Any) -> None:
        try:
            from opentelemetry.instrumentation.asgi import (  # noqa: PLC0415
                OpenTelemetryMiddleware,
            )
        except ImportError as exc:
            names = ", ".join(EXPORTER_VARIABLES)
            raise TracingUnavailableError(MISSING_SDK.format(names=names)) from exc
        # A span per ASGI message (each websocket frame) would drown the order's own spans.
        self._app = OpenTelemetryMiddleware(
            app, excluded_urls="/health,/metrics", exclude_spans=["receive", "send"]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve the request inside its span."""
        await self._app(scope, receive, send)

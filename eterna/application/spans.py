"""Whether this process traces: a switch the tracing adapter turns on, read on hot paths.

A no-op OpenTelemetry span still costs a context manager and a context attach, a few
microseconds, and an order opens six (its operation, its execution, its stages). While
nothing traces, those paths skip them on one attribute read: ``spans.enabled``. Read it
through the module (``from eterna.application import spans``), never as an imported name.
"""

from __future__ import annotations

enabled = False


def enable() -> None:
    """Open spans from now on (the tracing adapter calls this once it installed the SDK)."""
    global enabled  # noqa: PLW0603 - one process-wide switch, like OpenTelemetry's provider
    enabled = True


def disable() -> None:
    """Stop opening spans (tracing was closed)."""
    global enabled  # noqa: PLW0603
    enabled = False

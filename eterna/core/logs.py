"""Logging: readable lines on a console, one JSON object per line in production.

Every record about an order carries its id (``order_id``): code that works on one order
passes ``extra={"order_id": ...}`` (:func:`about`), and while a worker executes an order the
task middleware (``tasks.log_context``) sets :data:`current_order`, so the engine's lines and
taskiq's own lines about that task carry it too. Records about several orders carry their
ids as ``order_ids``.

The libraries' loggers (uvicorn's server and access log, taskiq's) go through the same
handler and format: :func:`configure_logging` strips any handler they brought, and the
commands start uvicorn with ``log_config=None`` so it does not install its own.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Literal

current_order: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_order", default=None
)
# The id of the HTTP request (or websocket) being served: set by the API's request-id
# middleware (eterna.adapters.web.request_id), inherited by the tasks it starts.
current_request: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request", default=None
)

_CONSOLE = "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(order_suffix)s"
# Loggers of libraries that may bring handlers of their own.
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "taskiq")
# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "order_id",
    "order_suffix",
    "request_id",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


def about(order_id: uuid.UUID | str) -> dict[str, str]:
    """Return the ``extra`` of a log call about one order."""
    return {"order_id": str(order_id)}


def about_many(order_ids: Iterable[uuid.UUID | str]) -> dict[str, list[str]]:
    """Return the ``extra`` of a log call about several orders."""
    return {"order_ids": [str(i) for i in order_ids]}


class OrderContextFilter(logging.Filter):
    """Attach the id of the order being worked on to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``order_id`` (and a console suffix) and ``request_id`` to the record."""
        order_id = getattr(record, "order_id", None) or current_order.get()
        record.order_id = order_id
        record.request_id = getattr(record, "request_id", None) or current_request.get()
        record.order_suffix = f" [order {order_id}]" if order_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as JSON: time, level, logger, message, order id, extras, error."""
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        order_id = getattr(record, "order_id", None)
        if order_id:
            doc["order_id"] = order_id
        request_id = getattr(record, "request_id", None)
        if request_id:
            doc["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure_logging(
    level: str, style: Literal["console", "json"], stream: IO[str] | None = None
) -> None:
    """Send every log record to stderr (or stream), in the chosen style, with order ids."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(OrderContextFilter())
    handler.setFormatter(JsonFormatter() if style == "json" else logging.Formatter(_CONSOLE))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True

"""Logging: readable lines on a console, one JSON object per line in production.

Every record logged while an order is being worked on carries its id (``order_id``): the
engine sets :data:`current_order` for the duration of an execution.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

current_order: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_order", default=None
)

_CONSOLE = "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(order_suffix)s"


class OrderContextFilter(logging.Filter):
    """Attach the id of the order being worked on to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``order_id`` (and a console suffix) to the record."""
        order_id = getattr(record, "order_id", None) or current_order.get()
        record.order_id = order_id
        record.order_suffix = f" [order {order_id}]" if order_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as JSON: time, level, logger, message, order id, exception."""
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        order_id = getattr(record, "order_id", None)
        if order_id:
            doc["order_id"] = order_id
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def configure_logging(level: str, style: Literal["console", "json"]) -> None:
    """Send every log record to stderr, in the chosen style, with the order id attached."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(OrderContextFilter())
    handler.setFormatter(JsonFormatter() if style == "json" else logging.Formatter(_CONSOLE))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())

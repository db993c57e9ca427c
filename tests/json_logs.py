"""Check JSON log lines: each one an object, each line about an order carrying its id."""

from __future__ import annotations

import json
import re
from typing import Any

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def parse_lines(text: str) -> list[dict[str, Any]]:
    """Return every line as a JSON object; fail on a line that is not one."""
    lines = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {raw!r}") from None
        assert isinstance(doc, dict), raw
        assert {"time", "level", "logger", "message"} <= doc.keys(), raw
        lines.append(doc)
    return lines


def check_order_ids(lines: list[dict[str, Any]], order_ids: set[str]) -> None:
    """Fail unless every line naming one of the orders carries that id.

    A line about one order has ``order_id``; a line about several has them in ``order_ids``.
    """
    for doc in lines:
        named = set(UUID.findall(doc["message"])) & order_ids
        carried = {doc.get("order_id"), *doc.get("order_ids", [])}
        assert named <= carried, f"line about {named} without its id: {doc}"


def about(lines: list[dict[str, Any]], order_id: str) -> list[dict[str, Any]]:
    """Return the lines that carry the order's id."""
    return [d for d in lines if d.get("order_id") == order_id]

import json
import logging

import pytest

from eterna.core.logs import JsonFormatter, OrderContextFilter, current_order


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord(
        "eterna.application.engine", logging.INFO, __file__, 1, message, None, None
    )
    OrderContextFilter().filter(record)
    return record


def test_json_lines_carry_the_current_order_id() -> None:
    token = current_order.set("8c5f3c1e-0000-4000-8000-000000000001")
    try:
        line = JsonFormatter().format(_record("routed"))
    finally:
        current_order.reset(token)
    doc = json.loads(line)
    assert doc["order_id"] == "8c5f3c1e-0000-4000-8000-000000000001"
    assert doc["message"] == "routed"
    assert doc["level"] == "INFO"


def test_lines_outside_an_order_have_no_order_id() -> None:
    assert "order_id" not in json.loads(JsonFormatter().format(_record("idle")))


@pytest.mark.parametrize("style", ["console", "json"])
def test_both_styles_format_exceptions(style: str) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, exc_info=__import__("sys").exc_info()
        )
    OrderContextFilter().filter(record)
    formatter = JsonFormatter() if style == "json" else logging.Formatter("%(message)s")
    assert "ValueError" in formatter.format(record)

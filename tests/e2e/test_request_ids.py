"""Every HTTP request has an id (the caller's, when well-formed) in its response and its logs."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e.test_json_logs import json_log
from tests.e2e.test_limit_sniper import CANCEL, wait_for
from tests.e2e.test_market_orders import MARKET_1_SOL, PLACE
from tests.json_logs import parse_lines

pytestmark = pytest.mark.anyio
__all__ = ["json_log"]  # the fixture, shared

GENERATED = re.compile(r"[0-9a-f]{32}")
RESTING_LIMIT = {
    "type": "LIMIT",
    "tokenIn": "SOL",
    "tokenOut": "USDC",
    "amountIn": "1",
    "limitPrice": "1000000",
}


async def _post(api: Api, query: str, variables: dict[str, object], request_id: str | None) -> str:
    headers = {"Authorization": f"Bearer {api.token('alice')}"}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    response = await api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    returned: str = response.headers["x-request-id"]
    return returned


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("req-42.a:b_C", True),
        ("x" * 128, True),
        (None, False),
        ("", False),
        ("x" * 129, False),  # too long
        ("has space", False),
        ("semi;colon", False),
    ],
)
async def test_a_well_formed_request_id_is_kept_and_any_other_replaced(
    api: Api, sent: str | None, kept: bool
) -> None:
    returned = await _post(api, "{ tokens { symbol } }", {}, sent)
    if kept:
        assert returned == sent
    else:
        assert GENERATED.fullmatch(returned), returned


async def test_health_and_refusals_carry_a_request_id_too(api: Api) -> None:
    response = await api.client.get("/health", headers={"X-Request-ID": "probe-1"})
    assert response.headers["x-request-id"] == "probe-1"
    too_big = await api.client.post("/graphql", content=b"x" * 2_000_000)
    assert too_big.status_code == 413
    assert GENERATED.fullmatch(too_big.headers["x-request-id"])


def _placed(log: io.StringIO) -> list[dict[str, Any]]:
    lines = parse_lines(log.getvalue())
    return [
        d for d in lines if d["logger"] == "eterna.application.service" and "placed" in d["message"]
    ]


async def test_placement_and_cancel_lines_carry_the_user_and_the_request(
    api: Api, json_log: io.StringIO
) -> None:
    await _post(api, PLACE, {"input": MARKET_1_SOL}, "place-1")
    await _post(api, PLACE, {"input": RESTING_LIMIT}, "place-2")
    lines = parse_lines(json_log.getvalue())
    limit_line = next(
        d for d in lines if d.get("request_id") == "place-2" and "placed" in d["message"]
    )
    limit = limit_line["order_id"]
    await wait_for(api, limit, {"WAITING"})
    await _post(api, CANCEL, {"id": limit}, "cancel-1")

    lines = parse_lines(json_log.getvalue())
    placed = [
        d for d in lines if d["logger"] == "eterna.application.service" and "placed" in d["message"]
    ]
    assert {d["request_id"] for d in placed} == {"place-1", "place-2"}
    assert {d["user_id"] for d in placed} == {"alice"}
    [cancelled] = [d for d in lines if "cancelled by its owner" in d["message"]]
    assert cancelled["user_id"] == "alice"
    assert cancelled["request_id"] == "cancel-1"
    assert cancelled["order_id"] == limit

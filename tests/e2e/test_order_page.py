"""The live order page in headless Chromium, against a real `eterna serve` process.

Every assertion reads what the page shows, and checks it against the server's own record of
the order where there is one. Set ETERNA_ORDER_PAGE_SCREENSHOT=docs/order-page.png to write
the screenshot in docs/clients.md.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from eterna.domain.tokens import b58encode
from tests.e2e.browser import Served, chromium, free_port, serve

pytestmark = pytest.mark.e2e

STEP_WAIT_MS = 20_000
# Generous: the machine may be busy, and a correct page gets there well before.
expect.set_options(timeout=STEP_WAIT_MS)
ORDER = """
query One($id: ID!) {
  order(id: $id) {
    status expiresAt amountOut executedPrice txSignature filledAmountIn
    route { minAmountOut legs { venue amountIn amountOut } }
    events { seq status message quotes { venue } }
  }
}
"""
PLACE = """
mutation Place($input: OrderInput!) {
  placeOrder(input: $input) { __typename ... on OrderPlaced { order { id } } }
}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("order-page")
    with serve(folder / "data", folder / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def errors() -> list[str]:
    """What the page logged as errors."""
    return []


@pytest.fixture
def page(browser: Browser, errors: list[str]) -> Iterator[Page]:
    """A fresh browser profile; the page must log no error (a CSP refusal would be one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == []


def _open(page: Page, link: str) -> None:
    page.goto(link)
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#tokenIn option[value=SOL]")).to_have_count(1)


def _place(page: Page, kind: str, **fields: str) -> None:
    page.locator(f'input[name="type"][value="{kind}"]').check(force=True)
    for field, value in fields.items():
        if field in {"tokenIn", "tokenOut"}:
            page.select_option(f"#{field}", value)
        else:
            page.fill(f"#{field}", value)
    page.click("#place")


def _card(page: Page, kind: str) -> Locator:
    return page.locator(f'.order[data-type="{kind}"]').first


def _reaches(card: Locator, status: str) -> None:
    expect(card).to_have_attribute("data-status", status)


def _server_order(served: Served, card: Locator, token: str | None = None) -> dict[str, Any]:
    """Read the card's order from the server, as the dev user or the token's."""
    order_id = card.get_attribute("data-order-id")
    order: dict[str, Any] = served.gql(ORDER, {"id": order_id}, token=token)["order"]
    return order


def _column(rows: Locator, index: int) -> list[str]:
    return [t.strip() for t in rows.locator(f"td:nth-child({index})").all_text_contents()]


def test_market_order_shows_every_step_with_its_route_and_fill(served: Served, page: Page) -> None:
    _open(page, served.link)  # the link `eterna serve` printed
    assert "#token" not in page.url
    assert page.evaluate("localStorage.getItem('eterna.token')") == served.token

    _place(page, "MARKET", tokenIn="SOL", tokenOut="USDC", amountIn="1", slippageBps="50")
    card = _card(page, "MARKET")
    _reaches(card, "CONFIRMED")
    expect(card.locator(".steps tbody tr")).to_have_count(5)

    order = _server_order(served, card)
    assert order["status"] == "CONFIRMED"
    steps = card.locator(".steps tbody tr")
    assert _column(steps, 1) == [str(e["seq"]) for e in order["events"]]
    assert _column(steps, 2) == ["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED"]
    assert _column(steps, 4) == [e["message"] for e in order["events"]]
    assert all(t.count(":") == 2 for t in _column(steps, 3))  # a wall-clock time per step
    expect(card.locator(".head .status")).to_have_text("CONFIRMED")
    expect(card.locator(".head .what")).to_have_text("1 SOL → USDC")

    legs = card.locator("table.legs tbody tr")
    route = order["route"]
    assert _column(legs, 1) == [leg["venue"] for leg in route["legs"]]
    assert _column(legs, 3) == [f"{leg['amountIn']} SOL" for leg in route["legs"]]
    assert _column(legs, 4) == [f"{leg['amountOut']} USDC" for leg in route["legs"]]
    expect(card.locator('[data-field="minAmountOut"] dd')).to_have_text(
        f"{route['minAmountOut']} USDC"
    )
    expect(card.locator('[data-field="priceImpactBps"] dd')).to_contain_text("bps")
    routing = next(e for e in order["events"] if e["status"] == "ROUTING")
    quoted = _column(card.locator("table.quotes tbody tr"), 1)
    assert [q.removesuffix("used").strip() for q in quoted] == [
        q["venue"] for q in routing["quotes"]
    ]
    assert len(quoted) == 3  # raydium, meteora, orca
    used = _column(card.locator("table.quotes tbody tr.chosen"), 1)
    assert used == [f"{leg['venue']}used" for leg in route["legs"]]

    fill = card.locator(".fill")
    expect(fill.locator('[data-field="amountOut"] dd')).to_have_text(f"{order['amountOut']} USDC")
    expect(fill.locator('[data-field="executedPrice"] dd')).to_have_text(
        f"{order['executedPrice']} USDC per SOL"
    )
    expect(fill.locator('[data-field="txSignature"] dd')).to_have_text(order["txSignature"])
    expect(card.locator("button.cancel")).to_have_count(0)


INJECT = """() => new Promise((resolve) => {
  document.addEventListener("securitypolicyviolation", (e) => resolve(e.effectiveDirective));
  const script = document.createElement("script");
  script.textContent = "window.injected = true";
  document.body.append(script);
  setTimeout(() => resolve(window.injected ? "ran" : "nothing"), 2000);
})"""


def test_the_page_policy_refuses_inline_script(served: Served, browser: Browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(served.url)
        assert page.evaluate(INJECT) == "script-src-elem"
        assert page.evaluate("window.injected") is None
    finally:
        context.close()


def test_limit_order_rests_and_is_cancelled_from_the_page(served: Served, page: Page) -> None:
    token = served.token_for("limit-trader")
    _open(page, f"{served.url}/#token={token}")
    _place(page, "LIMIT", tokenIn="SOL", tokenOut="USDC", amountIn="1", limitPrice="1000")
    card = _card(page, "LIMIT")
    _reaches(card, "WAITING")
    expect(card.locator(".steps tbody tr").nth(1)).to_contain_text("below the limit 1000")
    expect(card.locator(".terms")).to_contain_text("limit 1000 USDC per SOL")
    assert _server_order(served, card, token)["status"] == "WAITING"

    card.locator("button.cancel").click()
    _reaches(card, "CANCELLED")
    expect(card.locator(".head .status")).to_have_text("CANCELLED")
    expect(card.locator("button.cancel")).to_have_count(0)
    assert _column(card.locator(".steps tbody tr"), 2) == ["PENDING", "WAITING", "CANCELLED"]
    assert _server_order(served, card, token)["status"] == "CANCELLED"


def test_a_limit_order_filling_in_parts_shows_how_much_has_filled(
    served: Served, page: Page
) -> None:
    token = served.token_for("part-trader")
    quote = served.gql(
        'query { quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: "1000") '
        "{ ... on RouteQuote { route { amountOut } } } }",
        {},
        token=token,
    )["quote"]
    limit = (Decimal(quote["route"]["amountOut"]) / 1000).quantize(Decimal("0.000001"), ROUND_DOWN)
    _open(page, f"{served.url}/#token={token}")
    _place(page, "LIMIT", tokenIn="SOL", tokenOut="USDC", amountIn="6600", limitPrice=str(limit))
    card = _card(page, "LIMIT")
    expect(card.locator('.fill [data-field="filledAmountIn"] dd')).to_contain_text(" of 6600 SOL")
    _reaches(card, "WAITING")
    order = _server_order(served, card, token)
    expect(card.locator('.fill [data-field="filledAmountIn"] dd')).to_have_text(
        f"{order['filledAmountIn']} of 6600 SOL"
    )
    expect(card.locator('.fill [data-field="amountOut"] dd')).to_have_text(
        f"{order['amountOut']} USDC"
    )


def test_stops_placed_from_the_page_rest_with_their_trigger_trail_and_best_price(
    served: Served, page: Page
) -> None:
    token = served.token_for("stop-trader")
    _open(page, f"{served.url}/#token={token}")
    _place(page, "STOP_LOSS", tokenIn="SOL", tokenOut="USDC", amountIn="1", triggerPrice="10")
    stop = _card(page, "STOP_LOSS")
    _reaches(stop, "WAITING")
    expect(stop.locator(".terms")).to_contain_text("trigger 10 USDC per SOL")
    expect(stop.locator(".steps tbody tr").nth(1)).to_contain_text("the stop-loss fires at 10")

    _place(page, "TRAILING_STOP", tokenIn="SOL", tokenOut="USDC", amountIn="1", trailBps="4000")
    trailing = _card(page, "TRAILING_STOP")
    _reaches(trailing, "WAITING")
    expect(trailing.locator(".terms")).to_contain_text("trails 4000 bps")
    assert _server_order(served, trailing, token)["status"] == "WAITING"


def test_twap_placed_from_the_page_shows_its_slices_and_progress(
    served: Served, page: Page
) -> None:
    token = served.token_for("twap-trader")
    _open(page, f"{served.url}/#token={token}")
    _place(
        page,
        "TWAP",
        tokenIn="SOL",
        tokenOut="USDC",
        amountIn="0.3",
        slices="3",
        durationSeconds="2",
    )
    parent = _card(page, "TWAP")
    _reaches(parent, "CONFIRMED")
    expect(parent.locator(".terms")).to_contain_text("3 slices over 2 s")
    expect(parent.locator(".terms")).to_contain_text("3 of 3 slices done (3 filled")
    slices = page.locator('.order[data-type="MARKET"]')
    expect(slices).to_have_count(3)
    expect(slices.first.locator(".terms")).to_contain_text("of TWAP")
    assert _server_order(served, parent, token)["status"] == "CONFIRMED"


def test_sniper_order_for_a_mint_no_venue_lists_waits(served: Served, page: Page) -> None:
    mint = b58encode(secrets.token_bytes(32))
    token = served.token_for("sniper")
    _open(page, f"{served.url}/#token={token}")
    _place(
        page,
        "SNIPER",
        tokenIn="SOL",
        tokenOutMint=mint,
        amountIn="0.5",
        minLiquidity="50",
        maxPriceImpactBps="300",
        # The field takes the browser's local time, which is this machine's.
        expiresAt=(datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),  # noqa: DTZ005
    )
    card = _card(page, "SNIPER")
    _reaches(card, "WAITING")
    expect(card.locator(".terms")).to_contain_text(f"waits for mint {mint}")
    expect(card.locator(".terms")).to_contain_text("expires")
    expect(card.locator(".head .what")).to_have_text(f"0.5 SOL → {mint[:4]}…{mint[-4:]}")
    expect(card.locator("button.cancel")).to_have_count(1)
    order = _server_order(served, card, token)
    assert order["status"] == "WAITING"
    expires = datetime.fromisoformat(order["expiresAt"])
    assert timedelta(days=1) < expires - datetime.now(UTC) < timedelta(days=3)


def test_a_refused_token_is_said_plainly(served: Served, page: Page) -> None:
    page.goto(f"{served.url}/#token=not-a-token")
    expect(page.locator("#connection")).to_have_text(
        "the server refused the connection: invalid token: not a JWT"
    )
    expect(page.locator("#notice")).to_contain_text(
        "Could not list your orders: invalid token: not a JWT"
    )


def test_bad_input_is_rejected_next_to_the_form_as_text(served: Served, page: Page) -> None:
    _open(page, f"{served.url}/#token={served.token_for('clumsy')}")
    _place(page, "MARKET", tokenIn="SOL", tokenOut="USDC", amountIn="0")
    rejection = page.locator("#rejection")
    expect(rejection).to_be_visible()
    expect(rejection.locator(".code")).to_have_text("INVALID_AMOUNT")
    expect(rejection.locator(".message")).to_have_text("amountIn must be positive")
    expect(rejection.locator(".field")).to_have_text("field: amountIn")
    expect(page.locator("#amountIn")).to_have_attribute("aria-invalid", "true")

    markup = "<img src=x onerror=alert(1)>"
    _place(page, "SNIPER", tokenIn="SOL", tokenOutMint=markup, amountIn="1")
    expect(rejection.locator(".code")).to_have_text("UNKNOWN_TOKEN")
    expect(rejection.locator(".message")).to_have_text(f"unknown token '{markup}'")
    expect(page.locator("#tokenOutMint")).to_have_attribute("aria-invalid", "true")
    assert page.locator("img").count() == 0  # shown as text, never parsed as markup

    _place(page, "MARKET", tokenIn="SOL", tokenOut="USDC", amountIn="1", slippageBps="lots")
    expect(rejection.locator(".message")).to_have_text("slippageBps must be a whole number")
    expect(page.locator(".order")).to_have_count(0)  # nothing was placed


def test_reload_replays_listed_orders_and_follows_orders_placed_elsewhere(
    served: Served, page: Page
) -> None:
    token = served.token_for("returning")
    _open(page, f"{served.url}/#token={token}")
    _place(page, "MARKET", tokenIn="USDC", tokenOut="SOL", amountIn="25")
    _reaches(_card(page, "MARKET"), "CONFIRMED")
    _place(page, "LIMIT", tokenIn="SOL", tokenOut="USDC", amountIn="2", limitPrice="900")
    _reaches(_card(page, "LIMIT"), "WAITING")

    page.reload()  # no fragment now: the token comes from localStorage
    expect(page.locator("#connection")).to_have_text("live")
    market, limit = _card(page, "MARKET"), _card(page, "LIMIT")
    _reaches(market, "CONFIRMED")
    # The listing carries no steps: these came from orderEvents replaying the history.
    expect(market.locator(".steps tbody tr")).to_have_count(5)
    expect(market.locator("table.legs tbody tr").first).to_be_visible()
    expect(limit.locator(".steps tbody tr")).to_have_count(2)
    expect(page.locator(".order").first).to_have_attribute("data-type", "LIMIT")  # newest first

    # An order placed by another client of the same user appears live, through myOrderEvents.
    placed = served.gql(
        PLACE,
        {"input": {"type": "MARKET", "tokenIn": "SOL", "tokenOut": "BONK", "amountIn": "1"}},
        token=token,
    )
    order_id = placed["placeOrder"]["order"]["id"]
    card = page.locator(f'.order[data-order-id="{order_id}"]')
    _reaches(card, "CONFIRMED")
    expect(card.locator(".head .what")).to_have_text("1 SOL → BONK")
    expect(card.locator(".steps tbody tr")).to_have_count(5)


def test_screenshot_of_a_confirmed_market_order_and_a_resting_limit(
    served: Served, page: Page, tmp_path: Path
) -> None:
    target = Path(os.environ.get("ETERNA_ORDER_PAGE_SCREENSHOT") or tmp_path / "order-page.png")
    _open(page, f"{served.url}/#token={served.token_for('trader')}")
    _place(page, "LIMIT", tokenIn="SOL", tokenOut="USDC", amountIn="10", limitPrice="175")
    _reaches(_card(page, "LIMIT"), "WAITING")
    _place(page, "MARKET", tokenIn="SOL", tokenOut="USDC", amountIn="1000", slippageBps="100")
    market = _card(page, "MARKET")
    _reaches(market, "CONFIRMED")
    # Usually split across two venues; the chain's market maker moves prices slot by slot.
    expect(market.locator("table.legs tbody tr").first).to_be_visible()
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_page_reconnects_after_the_server_restarts(
    page: Page, errors: list[str], tmp_path: Path
) -> None:
    port = free_port()
    with serve(tmp_path / "data", tmp_path / "first.log", port) as first:
        _open(page, first.link)
        _place(page, "LIMIT", tokenIn="SOL", tokenOut="USDC", amountIn="3", limitPrice="500")
        card = _card(page, "LIMIT")
        _reaches(card, "WAITING")
    expect(page.locator("#connection")).to_have_attribute("data-state", "closed")
    with serve(tmp_path / "data", tmp_path / "second.log", port) as second:
        expect(page.locator("#connection")).to_have_text("live")
        card.locator("button.cancel").click()
        _reaches(card, "CANCELLED")
        assert _server_order(second, card)["status"] == "CANCELLED"
    # The browser reports each refused reconnection attempt; nothing else may be logged.
    errors[:] = [e for e in errors if not e.startswith("WebSocket connection to")]


PLACE_MANY = """
mutation Many($inputs: [OrderInput!]!) {
  placeOrders(inputs: $inputs) { __typename }
}
"""


def test_more_listed_orders_than_one_socket_may_replay_at_once_are_all_shown(
    served: Served, page: Page
) -> None:
    # The server runs at most 20 operations per websocket: the page must queue its replays.
    token = served.token_for("busy")
    count = 25
    inputs = [
        {"type": "MARKET", "tokenIn": "USDC", "tokenOut": "SOL", "amountIn": f"{i + 1}"}
        for i in range(count)
    ]
    placed = served.gql(PLACE_MANY, {"inputs": inputs}, token=token)["placeOrders"]
    assert [p["__typename"] for p in placed] == ["OrderPlaced"] * count
    _open(page, f"{served.url}/#token={token}")
    expect(page.locator('.order[data-status="CONFIRMED"]')).to_have_count(count)
    expect(page.locator(".order .steps tbody tr")).to_have_count(count * 5)
    expect(page.locator(".order .note")).to_have_count(0)

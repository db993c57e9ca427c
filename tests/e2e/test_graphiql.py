"""GraphiQL in headless Chromium with every network but the server's blocked.

GraphiQL, React and the page's script are served by Eterna itself (vendored, see
eterna/adapters/web/graphiql/VENDOR.md): with name resolution mapped to nothing and every
request to another origin aborted, the page still runs a mutation, a subscription and a
query, under a policy that refuses inline script, without a single console error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.browser import Served, chromium, serve

pytestmark = pytest.mark.e2e

WAIT_MS = 30_000
# No name resolves but the loopback address: a CDN could not be reached even if asked.
OFFLINE = ("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("graphiql")
    with serve(folder / "data", folder / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(OFFLINE) as launched:
        yield launched


class Offline:
    """What the page tried to reach outside the server, and what it logged as errors."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.refused: list[str] = []
        self.sockets: list[str] = []
        self.errors: list[str] = []

    def route(self, route: Route) -> None:
        """Let requests to the server through; abort and remember every other."""
        if route.request.url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()


@pytest.fixture
def offline(browser: Browser, served: Served) -> Iterator[tuple[Page, Offline]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    seen = Offline(served.url)
    context.route("**/*", seen.route)
    page = context.new_page()
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("websocket", lambda ws: seen.sockets.append(ws.url))
    yield page, seen
    context.close()


def _edit(page: Page, tab: str, text: str) -> None:
    """Replace the text of the Variables or Headers editor, as pasting it would."""
    page.get_by_role("button", name=tab, exact=True).click()
    editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def _run(page: Page, operation: str) -> None:
    """Run one operation of the document, chosen in the execute button's menu."""
    page.locator(".graphiql-execute-button").click()
    page.get_by_role("menuitem", name=operation, exact=True).click()


RESULT = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"


def _wait_for(page: Page, needle: str) -> Any:
    """Wait until the result pane's JSON holds the text, then return it (a subscription's
    latest payload); the pane's editor draws only the lines in view, so its value is read."""
    page.wait_for_function(f"n => ({RESULT}).includes(n)", arg=needle, timeout=WAIT_MS)
    return json.loads(page.evaluate(RESULT))


def test_graphiql_runs_a_mutation_a_subscription_and_a_query_offline(
    served: Served, offline: tuple[Page, Offline]
) -> None:
    page, seen = offline
    response = page.goto(f"{served.url}/graphql")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    expect(page.locator(".graphiql-container")).to_be_visible(timeout=WAIT_MS)

    _edit(page, "Headers", json.dumps({"Authorization": f"Bearer {served.token}"}))
    _run(page, "PlaceMarketOrder")
    placed = _wait_for(page, "OrderPlaced")["data"]["placeOrder"]
    assert placed["__typename"] == "OrderPlaced", placed
    order_id = placed["order"]["id"]

    # The subscription authenticates over the websocket with the Headers tab.
    _edit(page, "Variables", json.dumps({"orderId": order_id, "afterSeq": 0}))
    _run(page, "OrderEvents")
    last = _wait_for(page, '"CONFIRMED"')["data"]["orderEvents"]
    assert (last["orderId"], last["status"], last["seq"]) == (order_id, "CONFIRMED", 5)

    _edit(page, "Variables", json.dumps({"first": 5}))
    _run(page, "Orders")
    listed = _wait_for(page, "pageInfo")["data"]["orders"]["edges"]
    assert [e["node"]["id"] for e in listed] == [order_id]
    assert listed[0]["node"]["status"] == "CONFIRMED"

    ws_origin = served.url.replace("http", "ws", 1)
    assert seen.sockets, "the subscription opened no websocket"
    assert all(url.startswith(ws_origin + "/") for url in seen.sockets), seen.sockets
    assert seen.refused == []
    assert seen.errors == []


def test_graphiql_files_come_with_the_policy(served: Served, offline: tuple[Page, Offline]) -> None:
    page, seen = offline
    response = page.goto(f"{served.url}/graphiql/graphiql.min.js")
    assert response is not None
    assert response.ok
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    missing = page.goto(f"{served.url}/graphiql/nothing.js")
    assert missing is not None
    assert missing.status == 404
    assert seen.refused == []

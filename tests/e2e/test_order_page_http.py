"""The order page's HTTP side, in-process: routes, headers, the switch that turns it off."""

from __future__ import annotations

from pathlib import Path

import pytest

from eterna.adapters.web.order_page import CONTENT_SECURITY_POLICY
from tests.e2e.conftest import Api
from tests.e2e.test_security import running

pytestmark = pytest.mark.anyio


async def test_the_page_is_served_at_the_root_with_a_strict_policy(api: Api) -> None:
    response = await api.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    policy = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<script src="/static/graphql-ws.js"></script>' in response.text
    assert "<style" not in response.text  # nothing inline: the policy would refuse it
    assert "onclick=" not in response.text


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("graphql-ws.js", "text/javascript; charset=utf-8"),
        ("order-page.js", "text/javascript; charset=utf-8"),
        ("order-page.css", "text/css; charset=utf-8"),
    ],
)
async def test_the_page_files_are_served_and_revalidated(
    api: Api, name: str, media_type: str
) -> None:
    response = await api.client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "no-cache"
    again = await api.client.get(
        f"/static/{name}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path", ["/static/index.html", "/static/VENDOR.md", "/static/..%2fapp.py", "/static/nope.js"]
)
async def test_only_the_page_files_are_served(api: Api, path: str) -> None:
    assert (await api.client.get(path)).status_code == 404


async def test_the_page_can_be_switched_off(data_dir: Path) -> None:
    async with running(data_dir, order_page=False) as api:
        assert (await api.client.get("/")).status_code == 404
        assert (await api.client.get("/static/order-page.js")).status_code == 404
        assert (await api.client.get("/health")).status_code == 200

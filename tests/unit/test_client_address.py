"""The client's address: the peer, or the right-most untrusted hop behind trusted proxies."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest

from eterna.adapters.web.client_address import (
    ClientAddress,
    TrustedProxies,
    budget_key,
    parse_address,
)
from eterna.adapters.web.connection_limits import OpenConnections

PROXIES = TrustedProxies(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # Not a proxy: whatever it forwards is its own claim.
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
        # A trusted proxy: the right-most hop it did not write itself.
        ("10.1.1.1", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.1.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # 6.6.6.6: the client's words
        ("10.1.1.1", ["6.6.6.6, 198.51.100.1, 10.2.2.2"], "198.51.100.1"),  # two proxies
        ("10.1.1.1", ["6.6.6.6", "198.51.100.1, 192.0.2.1"], "198.51.100.1"),  # two headers
        # Every hop trusted: the left-most is the client.
        ("10.1.1.1", ["10.9.9.9, 192.0.2.1"], "10.9.9.9"),
        # No header, or garbage where the proxy's entry should be: the proxy itself.
        ("10.1.1.1", [], "10.1.1.1"),
        ("10.1.1.1", ["6.6.6.6, unknown"], "10.1.1.1"),
        ("10.1.1.1", ["6.6.6.6, not-an-ip, 10.2.2.2"], "10.2.2.2"),
        # Ports and brackets, IPv4 inside IPv6, IPv6 proxies.
        ("10.1.1.1", ["198.51.100.1:4431"], "198.51.100.1"),
        ("10.1.1.1", ["[2001:db9::1]:443"], "2001:db9::1"),
        ("::ffff:10.1.1.1", ["198.51.100.1"], "198.51.100.1"),
        ("2001:db8::7", ["2001:db9::1"], "2001:db9::1"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert PROXIES.client_of(peer, forwarded) == client


def test_without_trusted_proxies_forwarded_addresses_are_ignored() -> None:
    assert TrustedProxies([]).client_of("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"


def test_a_long_forwarded_chain_is_read_from_the_right_only() -> None:
    chain = ", ".join(["10.0.0.1"] * 1000 + ["198.51.100.1"])
    assert PROXIES.client_of("10.1.1.1", [chain]) == "198.51.100.1"


@pytest.mark.parametrize("entry", ["", "not an ip", "1.2.3.4/24", "300.1.1.1", "[::1"])
def test_entries_that_are_no_address_parse_to_none(entry: str) -> None:
    assert parse_address(entry) is None


def test_a_bad_trusted_proxy_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        TrustedProxies(["proxy.internal"])


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("198.51.100.1", "198.51.100.1"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        (None, "unknown"),
        ("unix-socket", "unix-socket"),
    ],
)
def test_budgets_count_ipv6_clients_by_their_64(host: str | None, key: str) -> None:
    assert budget_key(host) == key


async def _client_seen(proxies: TrustedProxies, scope: dict[str, Any]) -> Any:
    """Return the ``client`` the app behind the middleware is given."""
    seen: dict[str, Any] = {}

    async def app(scope: MutableMapping[str, Any], _receive: Any, _send: Any) -> None:
        seen.update(scope)

    await ClientAddress(app, proxies=proxies)(dict(scope), _never, _never)
    return seen["client"]


async def _never(*_: Any) -> Any:
    raise AssertionError("not called")


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["http", "websocket"])
async def test_the_middleware_puts_the_client_in_the_scope(kind: str) -> None:
    headers = [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.1")]
    proxied = {"type": kind, "client": ("10.1.1.1", 5000), "headers": headers}
    spoofed = {"type": kind, "client": ("203.0.113.5", 5000), "headers": headers}
    assert await _client_seen(PROXIES, proxied) == ("198.51.100.1", 0)
    assert await _client_seen(PROXIES, spoofed) == ("203.0.113.5", 5000)
    assert await _client_seen(TrustedProxies([]), proxied) == ("10.1.1.1", 5000)


def test_open_connections_count_to_the_cap_and_forget_closed_keys() -> None:
    counts = OpenConnections(cap=2)
    assert [counts.try_open("a") for _ in range(3)] == [True, True, False]
    assert counts.try_open("b")
    counts.close("a")
    assert counts.try_open("a")
    for key in ("a", "a", "b"):
        counts.close(key)
    assert (len(counts), counts.count("a")) == (0, 0)
    assert all(OpenConnections(cap=0).try_open("a") for _ in range(1000))

"""The Origin check of websocket handshakes."""

from __future__ import annotations

import pytest

from schema.ws_origin import OriginPolicy, normal_origin


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("https://App.Example", "https://app.example"),
        ("https://app.example:443", "https://app.example"),
        ("http://app.example:8080", "http://app.example:8080"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("null", None),
        ("https://[", None),
    ],
)
def test_origins_are_compared_as_browsers_send_them(given: str, normal: str | None) -> None:
    assert normal_origin(given) == normal


def test_no_origin_the_apis_own_and_listed_ones_are_let_in() -> None:
    policy = OriginPolicy(["https://app.example", "http://localhost:5173"])
    host = {"host": "api.example"}
    assert policy.allows(host)  # not a browser
    assert policy.allows({**host, "origin": "https://api.example"})
    assert policy.allows({**host, "origin": "http://api.example"})  # TLS ended at a proxy
    assert policy.allows({**host, "origin": "https://App.example:443"})
    assert policy.allows({**host, "origin": "http://localhost:5173"})
    assert policy.allows(
        {**host, "origin": "https://evil.example", "sec-fetch-site": "same-origin"}
    )
    assert not policy.allows({**host, "origin": "https://evil.example"})
    assert not policy.allows({**host, "origin": "http://localhost:5174"})
    assert not policy.allows({**host, "origin": "https://api.example:8443"})
    assert not policy.allows({**host, "origin": "null"})


def test_a_star_lets_every_origin_in() -> None:
    assert OriginPolicy(["*"]).allows({"host": "api.example", "origin": "https://any.example"})


@pytest.mark.parametrize(
    "entry", ["app.example", "https://app.example/path", "https://user@app.example", "null"]
)
def test_an_entry_that_is_not_an_origin_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        OriginPolicy([entry])


def test_a_string_in_place_of_a_list_is_refused() -> None:
    with pytest.raises(ValueError, match="list of origins"):
        OriginPolicy("https://app.example")

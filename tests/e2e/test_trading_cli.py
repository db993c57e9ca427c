"""The trading commands (`eterna order ...`, `eterna quote`) against a live `eterna serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from eterna.entrypoints.cli import main
from tests.e2e.browser import Served, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("trading-cli")
    with serve(folder / "data", folder / "serve.log") as running:
        yield running


@pytest.fixture
def env(served: Served, monkeypatch: pytest.MonkeyPatch) -> Served:
    """Point the commands at the server through ETERNA_URL and ETERNA_TOKEN."""
    monkeypatch.setenv("ETERNA_URL", served.url)
    monkeypatch.setenv("ETERNA_TOKEN", served.token)
    return served


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run one command in this process; return its exit status, stdout and stderr."""
    try:
        main(list(argv))
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_place_market_and_watch_shows_every_step_to_confirmed(
    env: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "order", "place", "market", "SOL", "USDC", "1", "--watch")
    assert (status, err) == (0, "")
    assert "swap:            1 SOL -> USDC" in out
    steps = [line for line in out.splitlines() if line.startswith("[")]
    assert [line.split()[2] for line in steps] == [
        "PENDING",
        "ROUTING",
        "BUILDING",
        "SUBMITTED",
        "CONFIRMED",
    ]
    assert steps[0].startswith("[#....]   1  PENDING")
    assert steps[-1].startswith("[#####]   5  CONFIRMED")


def test_an_adaptive_market_order_shows_its_cap(
    env: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        capsys, "order", "place", "market", "SOL", "USDC", "0.5", "--max-slippage-bps", "150"
    )
    assert (status, err) == (0, "")
    assert "slippage:        adaptive, at most 150 bps" in out
    status, out, err = run(
        capsys,
        "order",
        "place",
        "market",
        "SOL",
        "USDC",
        "0.5",
        "--max-slippage-bps",
        "150",
        "--slippage-bps",
        "50",
    )
    assert status == 1
    assert err.startswith("eterna: INVALID_INPUT: "), err


def test_a_limit_order_says_how_it_fills(env: Served, capsys: pytest.CaptureFixture[str]) -> None:
    limit = ("order", "place", "limit", "SOL", "USDC", "10", "--limit-price", "1000")
    status, out, err = run(capsys, *limit, "--min-fill", "2.5", "--json")
    assert (status, err) == (0, ""), out
    order = json.loads(out)
    assert (order["allOrNone"], order["minFillAmount"]) == (False, "2.5")
    status, out, err = run(capsys, *limit)
    assert (status, err) == (0, "")
    assert "fills:           0 of 10 SOL filled (at least 0.1 a fill)" in out
    status, out, err = run(capsys, *limit, "--all-or-none", "--json")
    assert (status, err) == (0, "")
    assert (json.loads(out)["allOrNone"], json.loads(out)["minFillAmount"]) == (True, None)
    status, _, err = run(capsys, *limit, "--all-or-none", "--min-fill", "1")
    assert status == 1
    assert err.startswith("eterna: INVALID_INPUT: minFillAmount"), err


def test_stops_are_placed_with_their_trigger_or_trail_and_listed_by_type(
    env: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "order", "place", "stop-loss", "SOL", "USDC", "1", "--trigger-price", "1"
    )
    assert status == 0, out
    assert "trigger price:" in out
    status, out, _ = run(
        capsys,
        "order", "place", "trailing-stop", "SOL", "USDC", "1", "--trail-bps", "250", "--json",
    )  # fmt: skip
    assert status == 0, out
    order = json.loads(out)
    assert (order["type"], order["trailBps"]) == ("TRAILING_STOP", 250)

    status, out, _ = run(capsys, "order", "list", "--type", "trailing-stop")
    assert status == 0
    assert any(row.startswith(order["id"]) for row in out.splitlines()), out


def test_a_twap_is_placed_with_its_slices_and_watched_to_its_end(
    env: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys,
        "order", "place", "twap", "SOL", "USDC", "0.3", "--slices", "3", "--over", "2s",
        "--jitter-bps", "100", "--watch", "--json",
    )  # fmt: skip
    assert status == 0, out
    assert '"type": "TWAP"' in out  # the order, indented, then one line per step
    steps = [json.loads(line) for line in out.splitlines() if line.startswith('{"')]
    assert steps[-1]["status"] == "CONFIRMED", steps[-1]
    assert any("slice 3 of 3 placed" in step["message"] for step in steps)


def test_limit_order_rests_lists_cancels_and_its_watch_ends_cancelled(
    env: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys,
        "order", "place", "limit", "SOL", "USDC", "2",
        "--limit-price", "100000", "--expires-in", "2h", "--json",
    )  # fmt: skip
    assert status == 0
    order = json.loads(out)
    assert (order["type"], order["limitPrice"]) == ("LIMIT", "100000")
    assert order["expiresAt"] is not None

    status, out, _ = run(capsys, "order", "list", "--type", "limit", "--first", "5")
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split()[:4] == ["ID", "TYPE", "STATUS", "SWAP"]
    assert any(row.startswith(order["id"]) and "LIMIT" in row for row in rows), out

    status, out, _ = run(capsys, "order", "cancel", order["id"])
    assert (status, out.strip()) == (0, f"cancelled {order['id']} (2 SOL -> USDC)")

    status, out, _ = run(capsys, "order", "watch", order["id"], "--json")
    assert status == 3  # it ended, but not CONFIRMED
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["status"] == "CANCELLED"

    status, out, _ = run(capsys, "order", "list", "--status", "cancelled", "--json")
    listed = json.loads(out)
    assert order["id"] in [edge["node"]["id"] for edge in listed["edges"]]


def test_quote_tabulates_every_venue_and_the_route(
    env: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "quote", "SOL", "USDC", "3")
    assert status == 0
    assert out.startswith("route: 3 in -> ")
    assert "quotes (best single pool per venue):" in out
    venues = {v["name"] for v in env.gql("{ venues { name } }")["venues"]}
    quoted = out.split("quotes (best single pool per venue):")[1].splitlines()[2:]
    assert {line.split()[0] for line in quoted} <= venues
    assert quoted


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ("order", "place", "market", "SOL", "USDC", "1.0000000001"),
            "eterna: INVALID_AMOUNT: ",
        ),
        (("order", "place", "limit", "SOL", "USDC", "1"), "eterna: INVALID_INPUT: "),
        (("order", "cancel", "00000000-0000-0000-0000-000000000000"), "eterna: NOT_FOUND: "),
        (("order", "watch", "00000000-0000-0000-0000-000000000000"), "eterna: NOT_FOUND: "),
        (("quote", "SOL", "NOPE", "1"), "eterna: UNKNOWN_TOKEN: "),
    ],
)
def test_refusals_are_one_line_with_their_code(
    env: Served, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], line: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 1
    assert out == ""
    assert err.startswith(line), err
    assert err.count("\n") == 1


def test_a_bad_token_is_refused_over_http_and_websocket(
    env: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "order", "list", "--token", "not-a-token")
    assert (status, err.split(":")[:2]) == (1, ["eterna", " UNAUTHENTICATED"])
    status, _, err = run(
        capsys, "order", "watch", "00000000-0000-0000-0000-000000000000", "--token", "x.y.z"
    )
    assert status == 1
    assert err.startswith("eterna: UNAUTHENTICATED: the server refused the token (4403"), err


def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "order", "list", "--url", "http://127.0.0.1:9", "--token", "t")
    assert status == 1
    assert err.startswith("eterna: CONNECTION_FAILED: cannot reach http://127.0.0.1:9/graphql")


def test_the_installed_command_reads_url_and_token_from_the_environment(served: Served) -> None:
    environment = {**os.environ, "ETERNA_URL": served.url, "ETERNA_TOKEN": served.token}
    done = subprocess.run(
        [sys.executable, "-m", "eterna", "order", "list", "--json", "--first", "1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"edges", "pageInfo"}

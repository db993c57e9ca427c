"""Place a batch of market orders, follow them live, read them back and check what came.

Run it against a live Eterna (``eterna serve`` prints a URL and a token)::

    .venv/bin/python demo.py --url http://127.0.0.1:8000/graphql --token "$TOKEN"

``ETERNA_URL`` and ``ETERNA_TOKEN`` stand in for the options. It exits 1 when any check fails
(an order refused, not CONFIRMED, a gap in its seqs, amounts that do not add up) and 2 when
the server cannot be used at all.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, localcontext

import httpx
from eterna_client.client import EternaClient
from eterna_client.enums import OrderStatus, OrderType
from eterna_client.exceptions import GraphQLClientError
from eterna_client.fragments import EventFields, OrderFields
from eterna_client.input_types import OrderInput
from eterna_client.order import OrderOrder
from eterna_client.place_orders import PlaceOrdersPlaceOrdersOrderRejected

TERMINAL = {OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
PRICE_QUANTUM = Decimal("1e-18")  # the server rounds executedPrice down to 18 places
# (tokenIn, tokenOut, amountIn): direct pools and a pair that may route in two hops.
BATCH = [
    ("SOL", "USDC", "0.5"),
    ("USDC", "SOL", "20"),
    ("SOL", "BONK", "0.1"),
    ("USDC", "JUP", "15"),
    ("SOL", "USDT", "0.25"),
]


@dataclass
class Report:
    """What the demo saw, and every check that failed."""

    failures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        """Record a failure unless ok."""
        if not ok:
            self.fail(what)

    def fail(self, what: str) -> None:
        """Record a failure."""
        self.failures.append(what)


def websocket_url(url: str) -> str:
    """Return the websocket address of a GraphQL HTTP address (same path, ws or wss)."""
    if url.startswith("https://"):
        return "wss://" + url.removeprefix("https://")
    return "ws://" + url.removeprefix("http://")


def expected_price(amount_in: Decimal, amount_out: Decimal) -> Decimal:
    """Return tokenOut per tokenIn as the server states it: rounded down to 18 places."""
    with localcontext() as ctx:
        ctx.prec = 80
        return (amount_out / amount_in).quantize(PRICE_QUANTUM, rounding=ROUND_DOWN)


def decimals_of(amount: Decimal) -> int:
    """Return how many decimal places an amount carries."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


async def follow(client: EternaClient, order_id: str, after_seq: int = 0) -> list[EventFields]:
    """Return an order's events after after_seq: history, then live, until it completes."""
    return [
        item.order_events
        async for item in client.order_events(order_id=order_id, after_seq=after_seq)
    ]


async def find_listed(client: EternaClient, ids: set[str], page: int) -> dict[str, OrderFields]:
    """Page through the caller's market orders (newest first) until every id is seen."""
    found: dict[str, OrderFields] = {}
    after: str | None = None
    for _ in range(50):  # a bound, in case the history is far longer than this run
        listing = (await client.orders(first=page, after=after, type_=OrderType.MARKET)).orders
        found.update({e.node.id: e.node for e in listing.edges if e.node.id in ids})
        if found.keys() == ids or not listing.page_info.has_next_page:
            break
        after = listing.page_info.end_cursor
    return found


def check_order(
    report: Report,
    placed: OrderInput,
    order: OrderOrder | None,
    streamed: list[EventFields],
    listed: OrderFields | None,
) -> None:
    """Check one order's stream, its stored history and its amounts against each other."""
    name = placed.client_order_id
    seqs = [e.seq for e in streamed]
    report.check(seqs == list(range(1, len(seqs) + 1)), f"{name}: streamed seqs {seqs} have gaps")
    report.check(
        bool(streamed) and streamed[-1].status in TERMINAL,
        f"{name}: the stream ended before a terminal step",
    )
    if order is None:
        report.fail(f"{name}: order(id) returned null")
        return
    history = [(e.seq, e.status) for e in order.events]
    report.check(
        history == [(e.seq, e.status) for e in streamed],
        f"{name}: stored history {history} differs from the stream",
    )
    if order.status != OrderStatus.CONFIRMED:
        reason = order.failure_reason or "no reason given"
        report.fail(f"{name}: ended {order.status.value} ({reason})")
        return
    check_amounts(report, name, placed, order, streamed[-1])
    report.check(
        listed is not None
        and (listed.status, listed.amount_out) == (order.status, order.amount_out),
        f"{name}: orders() does not list it as CONFIRMED with amountOut {order.amount_out}",
    )


def check_amounts(
    report: Report, name: str | None, placed: OrderInput, order: OrderOrder, last: EventFields
) -> None:
    """Check that a confirmed order's amounts agree with its input, route and last event."""
    report.check(
        order.amount_in == placed.amount_in, f"{name}: amountIn {order.amount_in} was not kept"
    )
    report.check(
        (last.amount_out, last.executed_price, last.tx_signature)
        == (order.amount_out, order.executed_price, order.tx_signature),
        f"{name}: the CONFIRMED event and the order disagree on amountOut, price or signature",
    )
    out, route = order.amount_out, order.route
    if out is None or route is None:
        report.fail(f"{name}: CONFIRMED without amountOut or route")
        return
    report.check(out >= route.min_amount_out, f"{name}: got {out}, below {route.min_amount_out}")
    report.check(
        decimals_of(out) <= order.token_out.decimals,
        f"{name}: amountOut {out} has more decimals than {order.token_out.symbol} allows",
    )
    first_hop = sum(
        (leg.amount_in for leg in route.legs if leg.token_in.mint == order.token_in.mint),
        Decimal(0),
    )
    report.check(first_hop == order.amount_in, f"{name}: route legs spend {first_hop}")
    report.check(
        order.executed_price == expected_price(order.amount_in, out),
        f"{name}: executedPrice {order.executed_price} is not amountOut / amountIn",
    )
    venues = "+".join(sorted({leg.venue for leg in route.legs}))
    report.lines.append(
        f"  {name}  {order.amount_in} {order.token_in.symbol} -> {out} {order.token_out.symbol}"
        f"  via {venues}  seq 1..{last.seq}  {order.status.value}"
    )


async def run(client: EternaClient, count: int, wait_seconds: float) -> Report:
    """Place count orders in one batch, follow them to the end and check everything."""
    report = Report()
    run_id = uuid.uuid4().hex[:8]
    inputs = [
        OrderInput(
            type_=OrderType.MARKET,
            token_in=token_in,
            token_out=token_out,
            amount_in=Decimal(amount),
            slippage_bps=100,
            client_order_id=f"demo-{run_id}-{i + 1}",
        )
        for i, (token_in, token_out, amount) in enumerate(BATCH * (count // len(BATCH) + 1))
    ][:count]
    results = (await client.place_orders(inputs=inputs)).place_orders
    placed: dict[str, OrderInput] = {}
    for item, sent in zip(results, inputs, strict=True):
        if isinstance(item, PlaceOrdersPlaceOrdersOrderRejected):
            report.fail(f"{sent.client_order_id}: refused {item.code.value}: {item.message}")
        else:
            placed[item.order.id] = sent
    report.lines.append(f"placed {len(placed)} of {count} orders in one placeOrders call")

    try:
        async with asyncio.timeout(wait_seconds):
            streams = await asyncio.gather(*(follow(client, order_id) for order_id in placed))
    except TimeoutError:
        report.fail(f"the orders were not all terminal within {wait_seconds:g} s")
        return report
    orders = [(await client.order(id=order_id)).order for order_id in placed]
    listed = await find_listed(client, set(placed), page=max(2, count // 2))
    for (order_id, sent), order, streamed in zip(placed.items(), orders, streams, strict=True):
        check_order(report, sent, order, streamed, listed.get(order_id))

    if streams and streams[0]:
        # Resuming after a seen seq replays exactly what came after it.
        first_id, tail_from = next(iter(placed)), max(0, len(streams[0]) - 2)
        async with asyncio.timeout(wait_seconds):  # the order is terminal: this is quick
            resumed = [e.seq for e in await follow(client, first_id, after_seq=tail_from)]
        report.check(
            resumed == [e.seq for e in streams[0][tail_from:]],
            f"resuming with afterSeq={tail_from} gave seqs {resumed}",
        )
    events = sum(len(s) for s in streams)
    report.lines.append(f"followed {events} events over {len(streams)} orderEvents subscriptions")
    return report


async def demo(args: argparse.Namespace) -> Report:
    """Connect with the token, run the demo and close the connections."""
    auth = {"Authorization": f"Bearer {args.token}"}
    async with EternaClient(
        url=args.url, headers=auth, ws_url=websocket_url(args.url), ws_connection_init_payload=auth
    ) as client:
        return await run(client, args.orders, args.timeout)


def main() -> int:
    """Run the demo from the command line; return the process's exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    url = os.environ.get("ETERNA_URL", "http://127.0.0.1:8000/graphql")
    parser.add_argument("--url", default=url, help="GraphQL endpoint (ETERNA_URL)")
    parser.add_argument(
        "--token", default=os.environ.get("ETERNA_TOKEN"), help="JWT (ETERNA_TOKEN)"
    )
    parser.add_argument("--orders", type=int, default=5, help="orders in the batch (default 5)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the orders")
    args = parser.parse_args()
    if not args.token:
        parser.error("give --token or ETERNA_TOKEN (`eterna token USER` prints one)")
    if not 1 <= args.orders <= 100:
        parser.error("--orders must be 1..100 (the server's batch cap is 100 by default)")
    try:
        report = asyncio.run(demo(args))
    except (httpx.HTTPError, GraphQLClientError, OSError, TimeoutError) as exc:
        print(f"demo could not use {args.url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines))
    if report.failures:
        print(f"FAILED: {len(report.failures)} check(s)", *report.failures, sep="\n  ")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

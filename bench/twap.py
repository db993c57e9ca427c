"""A TWAP of 1,000,000 USDC -> SOL in 10 slices over 10 minutes, against one single fill.

Two throwaway clusters (1 API, 1 worker, ``eterna chain`` as its own process) start from
the same genesis (the default chain seed) with slots running (``ETERNA_CHAIN_SLOT_MS``, 400
ms by default here), so the seeded market maker lands one drift swap per slot: the same
sequence of outside trades on both. The market path is the same; only Eterna's own trades
differ:

1. **single**: ``--delay`` seconds after the cluster is ready, one MARKET order of the whole
   ``--amount`` USDC; its fill (SOL received, USDC per SOL) is the single-shot figure;
2. **twap**: the same delay, then a TWAP of the same amount in ``--slices`` slices over
   ``--duration`` seconds (``--jitter-bps``); just before it is placed, a ``quote`` of the
   whole amount says what a single fill would have paid at that very moment on this chain.

It prints each slice (when it filled, its price), then the TWAP's average price, the single
fill's, the quote's, and the difference in bps; and the spot price (a 100 USDC quote)
before and after, to tell the market's own drift from the orders' price impact.

Run:  .venv/bin/python bench/twap.py [--duration 600 --slices 10 --amount 1000000]
      .venv/bin/python bench/twap.py --duration 20          # a short run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from cluster import Cluster
from common import add_cluster_arguments, graphql_errors, parse_env, print_table, progress, settle

PLACE = """
mutation Place($input: OrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { id } }
    ... on OrderRejected { code message field }
  }
}
"""
ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    status amountIn amountOut executedPrice failureReason
    progress { slicesPlaced slicesDone slicesFilled filledAmountIn amountOut averagePrice }
    children { sliceIndex status amountIn amountOut executedPrice updatedAt failureReason }
  }
}
"""
QUOTE = """
query Quote($amount: Decimal!) {
  quote(tokenIn: "USDC", tokenOut: "SOL", amountIn: $amount) {
    __typename ... on RouteQuote { route { amountOut priceImpactBps } }
    ... on QuoteRejected { code message }
  }
}
"""
TERMINAL = {"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"}


@dataclass
class Run:
    """What one cluster's run saw."""

    name: str
    order: dict[str, Any] = field(default_factory=dict)
    spot_before: Decimal = Decimal(0)
    spot_after: Decimal = Decimal(0)
    quoted_out: Decimal | None = None
    quoted_impact_bps: int | None = None
    seconds: float = 0.0


class Client:
    """GraphQL over HTTP to one API of a cluster, as one user."""

    def __init__(self, cluster: Cluster) -> None:
        self._url = cluster.graphql_url(0)
        self._headers = {"Authorization": f"Bearer {cluster.token('trader')}"}
        self._http = httpx.AsyncClient(timeout=30)

    async def close(self) -> None:
        await self._http.aclose()

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.post(
            self._url, json={"query": query, "variables": variables}, headers=self._headers
        )
        body: dict[str, Any] = response.json()
        if errors := graphql_errors(body):
            raise RuntimeError(errors)
        data: dict[str, Any] = body["data"]
        return data

    async def quote(self, amount: Decimal) -> tuple[Decimal, int]:
        answer = (await self.gql(QUOTE, {"amount": str(amount)}))["quote"]
        if answer["__typename"] != "RouteQuote":
            raise RuntimeError(f"no quote: {answer}")
        route = answer["route"]
        return Decimal(route["amountOut"]), int(route["priceImpactBps"])

    async def place(self, order: dict[str, Any]) -> str:
        placed = (await self.gql(PLACE, {"input": order}))["placeOrder"]
        if placed["__typename"] != "OrderPlaced":
            raise RuntimeError(f"refused: {placed}")
        order_id: str = placed["order"]["id"]
        return order_id

    async def wait(self, order_id: str, limit: float) -> dict[str, Any]:
        started, said = time.monotonic(), 0.0
        while True:
            order: dict[str, Any] = (await self.gql(ORDER, {"id": order_id}))["order"]
            now = time.monotonic() - started
            if order["status"] in TERMINAL:
                return order
            if now - said >= 5:
                said = now
                shown = order["progress"]
                progress(
                    f"{order['status']} after {now:.0f} s"
                    + (
                        f": {shown['slicesPlaced']} slices placed, {shown['slicesDone']} done"
                        if shown
                        else ""
                    )
                )
            if now > limit:
                raise RuntimeError(f"order {order_id} not finished after {limit:.0f} s: {order}")
            await asyncio.sleep(0.5)


SPOT_PROBE = Decimal(100)


def usdc_per_sol(usdc: Decimal, sol: Decimal) -> Decimal:
    return (usdc / sol).quantize(Decimal("0.000001"))


async def run_once(args: argparse.Namespace, name: str) -> Run:
    """Start a cluster from genesis, wait --delay, trade (single or twap), read it back."""
    env = {"ETERNA_CHAIN_SLOT_MS": str(args.slot_ms), **parse_env(args.env)}
    run = Run(name)
    async with Cluster(
        apis=1, workers=1, env=env, source=args.source, market=args.market, quiet=True
    ) as cluster:
        client = Client(cluster)
        try:
            progress(f"{name}: cluster ready; trading in {args.delay:g} s")
            await asyncio.sleep(args.delay)
            spot_out, _ = await client.quote(SPOT_PROBE)
            run.spot_before = usdc_per_sol(SPOT_PROBE, spot_out)
            order: dict[str, Any] = {
                "tokenIn": "USDC",
                "tokenOut": "SOL",
                "amountIn": str(args.amount),
                "slippageBps": args.slippage_bps,
            }
            if name == "twap":
                run.quoted_out, run.quoted_impact_bps = await client.quote(args.amount)
                order |= {
                    "type": "TWAP",
                    "slices": args.slices,
                    "durationSeconds": args.duration,
                    "jitterBps": args.jitter_bps,
                }
            else:
                order["type"] = "MARKET"
            started = time.monotonic()
            order_id = await client.place(order)
            run.order = await client.wait(order_id, args.duration + 300)
            run.seconds = time.monotonic() - started
            spot_out, _ = await client.quote(SPOT_PROBE)
            run.spot_after = usdc_per_sol(SPOT_PROBE, spot_out)
        finally:
            await client.close()
    progress(f"{name}: {run.order.get('status')} in {run.seconds:.1f} s")
    return run


def bps(a: Decimal, b: Decimal) -> str:
    return f"{(a - b) / b * 10_000:+.1f} bps"


def report(args: argparse.Namespace, single: Run, twap: Run) -> None:
    amount = args.amount
    rows: list[tuple[str, str]] = []
    children = twap.order.get("children") or []
    started = min((c["updatedAt"] for c in children), default=None)
    for child in children:
        out = child["amountOut"]
        price = usdc_per_sol(Decimal(child["amountIn"]), Decimal(out)) if out else None
        rows.append(
            (
                f"slice {child['sliceIndex']}",
                f"{child['status']} {child['amountIn']} USDC -> {out} SOL"
                + (f" at {price} USDC/SOL" if price else f" ({child['failureReason']})"),
            )
        )
    print_table(f"TWAP slices (first finished at {started})", rows)

    twap_out = Decimal(twap.order["amountOut"] or 0)
    single_out = Decimal(single.order["amountOut"] or 0)
    filled_in = Decimal(twap.order["progress"]["filledAmountIn"])
    table = [
        ("amount", f"{amount:,} USDC -> SOL"),
        (
            "TWAP",
            f"{twap.order['status']}: {args.slices} slices over {args.duration} s "
            f"(jitter {args.jitter_bps} bps), finished in {twap.seconds:.0f} s; "
            f"{twap.order['progress']['slicesFilled']} filled",
        ),
        ("TWAP received", f"{twap_out} SOL for {filled_in} USDC"),
        ("single fill received", f"{single_out} SOL ({single.order['status']})"),
    ]
    if twap_out and single_out:
        twap_price = usdc_per_sol(filled_in, twap_out)
        single_price = usdc_per_sol(amount, single_out)
        table += [
            ("TWAP average price", f"{twap_price} USDC per SOL"),
            ("single fill price", f"{single_price} USDC per SOL"),
            ("TWAP against single", f"{bps(twap_price, single_price)} (negative: TWAP cheaper)"),
        ]
    if twap.quoted_out:
        quoted = usdc_per_sol(amount, twap.quoted_out)
        table.append(
            (
                "quote at the TWAP's start",
                f"{twap.quoted_out} SOL, {quoted} USDC per SOL, impact "
                f"{twap.quoted_impact_bps} bps (what one fill would have paid then)",
            )
        )
    table += [
        ("spot before / after (single run)", f"{single.spot_before} / {single.spot_after}"),
        ("spot before / after (TWAP run)", f"{twap.spot_before} / {twap.spot_after}"),
    ]
    print_table("TWAP against a single fill on the same market path", table)


async def main(args: argparse.Namespace) -> int:
    await settle(args.settle)
    single = await run_once(args, "single")
    twap = await run_once(args, "twap")
    report(args, single, twap)
    return 0 if twap.order["status"] == "CONFIRMED" else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amount", type=Decimal, default=Decimal(1_000_000), help="USDC")
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--duration", type=int, default=600, help="seconds (default 600)")
    parser.add_argument("--jitter-bps", type=int, default=0)
    parser.add_argument("--slippage-bps", type=int, default=100)
    parser.add_argument("--delay", type=float, default=5.0, help="seconds before trading")
    parser.add_argument("--slot-ms", type=int, default=400, help="the chain's slot time")
    add_cluster_arguments(parser)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args(sys.argv[1:]))))

"""Trigger-to-ROUTING latency of limit orders, or of stops, with 10,000 of them resting.

A distributed cluster (1 API, ``--workers`` workers, ``eterna chain`` as its own process,
slots moved only on request) holds ``--orders`` resting LIMIT orders SOL -> USDC:
``--near`` of them on a ladder of limits just above the market, ``--step-bps`` apart, and
the rest far above it (1.5x to 3x the price), so the trigger watcher's book holds them all
while a crossing concerns only a few. Amounts vary from 0.05 to 0.5 SOL.

Each round raises the price of SOL on the chain's Raydium SOL/USDC pool through its admin API
(``POST /admin/move-price``, a real swap) by ``--per-round`` x ``--step-bps`` (a move may
overshoot a little, so it may cross one more limit), then waits until the orders it
fired are finished. The defaults fire 1 to 3 orders per crossing; ``--step-bps 5
--per-round 8`` fires about 13 at once, which measures the workers' burst capacity more than
the watcher. For every fired order:

- trigger -> FIRE: from the move request (the client's clock, taken just before it is sent)
  to the watcher's FIRE event (``at`` of the WAITING -> PENDING event, the watcher's clock);
- trigger -> ROUTING: from the same moment to the worker's ROUTING event.

``--kind stops`` rests STOP_LOSS and TRAILING_STOP orders instead, half each: the near ladder
holds a stop-loss and a trailing stop on each rung below the market (``--step-bps`` apart; the
trailing stop's trail is the rung's distance, so it fires once the price fell that much from
the best seen), the rest are stop-losses far below (0.33x to 0.67x) and trailing stops with
trails of 20 to 50 %; and each round lowers the price of every SOL/USDC pool instead, in one
request that moves them back to back (the trigger moment is taken just before it). Every
market update makes the watcher observe the stops of the pair at their own executable
price: the stops are indexed by trigger per amount (10 amounts here), and an update routes
the smallest and largest amounts, then only the amounts whose stops those prices may reach.

Every process runs on this machine, so the clocks agree. Figures are p50 / p99 / max over
all rounds.

Run:  .venv/bin/python bench/triggers.py [--orders 10000 --rounds 30] [--kind stops]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx
from cluster import Cluster, CpuMeter
from common import (
    PLACE_MANY,
    add_cluster_arguments,
    graphql_errors,
    ms,
    parse_env,
    percentile,
    print_table,
    progress,
    settle,
    ticker,
)

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
QUOTE = """
{ quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: "0.05") {
    __typename ... on RouteQuote { route { amountOut } } } }
"""
PROBE = Decimal("0.05")


@dataclass
class Samples:
    """Latencies of every fired order, in seconds."""

    to_fire: list[float] = field(default_factory=list)
    to_routing: list[float] = field(default_factory=list)
    fired_per_round: list[int] = field(default_factory=list)
    rested_again: int = 0


def limit_input(limit: Decimal, amount: Decimal) -> dict[str, Any]:
    """Return a resting LIMIT order SOL -> USDC."""
    price = limit.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    return {
        "type": "LIMIT",
        "tokenIn": "SOL",
        "tokenOut": "USDC",
        "amountIn": str(amount),
        "limitPrice": str(price),
    }


def stop_inputs(
    price: Decimal, step: Decimal, args: argparse.Namespace, rng: random.Random
) -> list[dict[str, Any]]:
    """Return resting stops SOL -> USDC: a near ladder below the market and far ones."""
    near: list[dict[str, Any]] = []
    for i in range(args.near):
        rung = i // 2 + 1  # one stop-loss and one trailing stop on each rung
        if i % 2 == 0:
            trigger = (price * (1 - step * rung)).quantize(Decimal("0.000001"), ROUND_DOWN)
            near.append({"type": "STOP_LOSS", "triggerPrice": str(trigger)})
        else:
            near.append({"type": "TRAILING_STOP", "trailBps": args.step_bps * rung})
    far: list[dict[str, Any]] = []
    for i in range(args.orders - args.near):
        if i % 2 == 0:
            trigger = price * Decimal(str(rng.uniform(0.33, 0.67)))
            far.append(
                {"type": "STOP_LOSS", "triggerPrice": str(trigger.quantize(Decimal("0.000001")))}
            )
        else:
            far.append({"type": "TRAILING_STOP", "trailBps": rng.randint(2_000, 5_000)})
    pair = {"tokenIn": "SOL", "tokenOut": "USDC"}
    return [
        pair | o | {"amountIn": str(Decimal(rng.randint(1, 10)) * Decimal("0.05"))}
        for o in near + far
    ]


async def market_price(client: httpx.AsyncClient, url: str, token: str) -> Decimal:
    """Return USDC per SOL the best route pays for a small amount now."""
    body = (
        await client.post(url, json={"query": QUOTE}, headers={"Authorization": f"Bearer {token}"})
    ).json()
    return Decimal(body["data"]["quote"]["route"]["amountOut"]) / PROBE


async def sol_usdc_pools(client: httpx.AsyncClient, chain: str) -> list[tuple[str, str]]:
    """Return every SOL/USDC pool and the side that sells SOL into it (lowers its price)."""
    pools = (await client.get(f"{chain}/admin/pools")).json()
    return [
        (p["address"], "sellA" if p["tokenA"]["mint"] == SOL else "sellB")
        for p in pools
        if {p["tokenA"]["mint"], p["tokenB"]["mint"]} == {SOL, USDC}
    ]


async def raydium_pool(client: httpx.AsyncClient, chain: str) -> tuple[str, str]:
    """Return the Raydium SOL/USDC pool and the side that buys SOL from it."""
    pools = (await client.get(f"{chain}/admin/pools")).json()
    pool = next(
        p
        for p in pools
        if p["venue"] == "raydium" and {p["tokenA"]["mint"], p["tokenB"]["mint"]} == {SOL, USDC}
    )
    return pool["address"], "sellB" if pool["tokenA"]["mint"] == SOL else "sellA"


async def place_all(
    cluster: Cluster, client: httpx.AsyncClient, inputs: list[dict[str, Any]], users: int
) -> None:
    """Place the orders in batches of 100, four calls in flight."""
    tokens = [cluster.token(f"trigger-user-{u}") for u in range(users)]
    gate = asyncio.Semaphore(4)
    placed = 0

    async def one(k: int, batch: list[dict[str, Any]]) -> None:
        nonlocal placed
        while batch:
            async with gate:
                response = await client.post(
                    cluster.graphql_url(0),
                    json={"query": PLACE_MANY, "variables": {"inputs": batch}},
                    headers={"Authorization": f"Bearer {tokens[k % len(tokens)]}"},
                )
            body = response.json()
            error = graphql_errors(body)
            if error:
                raise RuntimeError(error)
            results = (body.get("data") or {}).get("placeOrders") or []
            # The in-flight cap counts stops until the watcher rests them: wait, as a client
            # would, and send the refused ones again. Any other refusal is a failure.
            again = [i for i, r in zip(batch, results, strict=True) if "code" in r]
            codes = {r["code"] for r in results if "code" in r}
            if codes - {"TOO_MANY_ORDERS_IN_FLIGHT"}:
                raise RuntimeError(str(next(r for r in results if "code" in r)))
            placed += len(batch) - len(again)
            batch = again
            if batch:
                await asyncio.sleep(0.2)

    batches = [inputs[i : i + 100] for i in range(0, len(inputs), 100)]
    async with ticker(lambda: f"{placed}/{len(inputs)} orders placed"):
        await asyncio.gather(*(one(k, b) for k, b in enumerate(batches)))


async def count(cluster: Cluster, status: str) -> int:
    """Return how many orders have the status."""
    rows = await cluster.fetch("SELECT count(*) AS n FROM orders WHERE status = $1", status)
    n: int = rows[0]["n"]
    return n


async def wait_quiet(cluster: Cluster, seconds: float = 2.0, limit: float = 600) -> None:
    """Wait until no event was written for ``seconds`` (the book is built, nothing runs)."""
    deadline = time.monotonic() + limit
    last = None
    quiet_since = time.monotonic()
    async with ticker(lambda: f"waiting for the cluster to go quiet (last event {last})"):
        while time.monotonic() < deadline:
            rows = await cluster.fetch("SELECT max(id) AS m FROM order_events")
            if rows[0]["m"] != last:
                last, quiet_since = rows[0]["m"], time.monotonic()
            elif time.monotonic() - quiet_since >= seconds:
                return
            await asyncio.sleep(0.25)
    raise RuntimeError("the cluster never went quiet")


async def one_round(
    cluster: Cluster,
    client: httpx.AsyncClient,
    pools: list[tuple[str, str]],
    bps: int,
    samples: Samples,
) -> int:
    """Move the price once; record the fired orders' latencies; return how many fired."""
    started = time.time()
    # Every pool in one request: they move back to back, as arbitrage moves every venue of
    # the pair at once, so the trigger moment is one.
    todo = list(pools)
    while todo:
        moved = await client.post(
            f"{cluster.market_url}/admin/move-price",
            json={"moves": [{"pool": p, "bps": bps, "side": s} for p, s in todo]},
        )
        failed = moved.json().get("failed") if moved.status_code == 400 else None
        if failed is None or len(pools) == 1:
            moved.raise_for_status()
            break
        # A pool at the end of its range (a DLMM past its last bin): the others still move.
        stuck = todo[failed]
        progress(f"pool {stuck[0]} cannot move further: {moved.json().get('error')}")
        pools.remove(stuck)
        todo = todo[failed + 1 :]
    # Fired orders: a PENDING event after a WAITING one, written after the move.
    query = """
        SELECT f.order_id, extract(epoch FROM f.at) AS fired, extract(epoch FROM r.at) AS routed
        FROM order_events f
        LEFT JOIN order_events r ON r.order_id = f.order_id AND r.seq = f.seq + 1
            AND r.status = 'ROUTING'
        WHERE f.status = 'PENDING' AND f.seq > 1 AND f.at >= to_timestamp($1)
    """
    deadline = time.monotonic() + 10
    rows: list[Any] = []
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        rows = await cluster.fetch(query, started)
        unfinished = await count(cluster, "PENDING") + await count(cluster, "ROUTING")
        unfinished += await count(cluster, "BUILDING") + await count(cluster, "SUBMITTED")
        if rows and unfinished == 0:
            break
    for row in rows:
        samples.to_fire.append(float(row["fired"]) - started)
        if row["routed"] is None:
            samples.rested_again += 1
        else:
            samples.to_routing.append(float(row["routed"]) - started)
    samples.fired_per_round.append(len(rows))
    return len(rows)


async def run(args: argparse.Namespace) -> int:
    env = {"ETERNA_WORKER_CONCURRENCY": "20", **parse_env(args.env)}
    rng = random.Random(args.seed)
    cluster_ = Cluster(apis=1, workers=args.workers, env=env, source=args.source, market="chain")
    async with cluster_ as cluster, httpx.AsyncClient(timeout=120) as client:
        chain = cluster.market_url
        if chain is None:
            raise SystemExit("the chain runs in its own process here")
        token = cluster.token("trigger-user-0")
        pool = await raydium_pool(client, chain)
        # Make Raydium the best venue for small amounts, so one pool sets the marginal price.
        await client.post(
            f"{chain}/admin/move-price", json={"pool": pool[0], "bps": 60, "side": pool[1]}
        )
        price = await market_price(client, cluster.graphql_url(0), token)
        progress(f"market: {price:.6f} USDC per SOL for {PROBE} SOL")
        step = Decimal(args.step_bps) / 10_000
        moves = [pool]
        if args.kind == "stops":
            inputs = stop_inputs(price, step, args, rng)
            # Each round lowers the price of every SOL/USDC pool: lowering one only sends the
            # best route to another.
            moves = await sol_usdc_pools(client, chain)
        else:
            near = [price * (1 + step * (i + 1)) for i in range(args.near)]
            far = [
                price * Decimal(str(rng.uniform(1.5, 3.0))) for _ in range(args.orders - args.near)
            ]
            amounts = [Decimal(rng.randint(1, 10)) * Decimal("0.05") for _ in range(args.orders)]
            inputs = [limit_input(p, a) for p, a in zip(near + far, amounts, strict=True)]
        rng.shuffle(inputs)
        progress(f"placing {len(inputs)} resting {args.kind} orders")
        placed_at = time.monotonic()
        await place_all(cluster, client, inputs, args.users)
        waiting = 0
        async with ticker(lambda: f"{waiting}/{len(inputs)} orders rest"):
            while (waiting := await count(cluster, "WAITING")) < len(inputs):
                if time.monotonic() - placed_at > 900:
                    raise RuntimeError(f"only {waiting} orders rest")
                await asyncio.sleep(1)
        progress(f"{waiting} orders rest after {time.monotonic() - placed_at:.1f} s")
        await wait_quiet(cluster)
        await settle(args.settle)

        samples = Samples()
        cpu = CpuMeter(cluster.procs).start()
        bps = args.step_bps * args.per_round
        for r in range(args.rounds):
            fired = await one_round(cluster, client, moves, bps, samples)
            progress(f"round {r + 1}/{args.rounds}: {fired} fired")
            if fired == 0 and samples.fired_per_round[-2:-1] == [0]:
                progress("the near ladder is used up")
                break
        cpu.stop()
        resting = await count(cluster, "WAITING")
        confirmed = await count(cluster, "CONFIRMED")
        failed = await count(cluster, "FAILED")

    print_table(
        f"Trigger latency: {args.orders} resting {args.kind} orders, {args.rounds} price crossings",
        [
            ("orders resting before the first crossing", f"{len(inputs)}"),
            ("orders fired", f"{len(samples.to_fire)} ({samples.rested_again} rested again)"),
            ("fired per crossing (min / median / max)", _spread(samples.fired_per_round)),
            ("trigger -> FIRE p50 / p99", _pcts(samples.to_fire)),
            ("TRIGGER -> ROUTING p50", ms(percentile(samples.to_routing, 50))),
            ("TRIGGER -> ROUTING p99", ms(percentile(samples.to_routing, 99))),
            ("trigger -> ROUTING max", ms(max(samples.to_routing, default=float("nan")))),
            ("after the run", f"{resting} WAITING, {confirmed} CONFIRMED, {failed} FAILED"),
            *cpu.rows(),
        ],
    )
    return 0 if samples.to_routing and failed == 0 else 1


def _pcts(values: list[float]) -> str:
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 99))}"


def _spread(values: list[int]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    return f"{ordered[0]} / {ordered[len(ordered) // 2]} / {ordered[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--kind",
        choices=("limits", "stops"),
        default="limits",
        help="resting LIMIT orders, or STOP_LOSS and TRAILING_STOP orders (limits)",
    )
    parser.add_argument("--orders", type=int, default=10_000, help="resting orders (10000)")
    parser.add_argument("--near", type=int, default=300, help="orders on the near ladder (300)")
    parser.add_argument("--step-bps", type=int, default=20, help="ladder spacing (20 bps)")
    parser.add_argument(
        "--per-round", type=int, default=1, help="ladder steps per move (1; a move is >= 20 bps)"
    )
    parser.add_argument("--rounds", type=int, default=60, help="price crossings (60)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--users", type=int, default=10, help="users placing orders (10)")
    parser.add_argument("--seed", type=int, default=7, help="seed of limits and amounts (7)")
    add_cluster_arguments(parser)
    args = parser.parse_args()
    if args.near < args.per_round * args.rounds:
        parser.error("--near must cover --per-round x --rounds")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

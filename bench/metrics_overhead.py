"""What metrics cost per order step, in microseconds.

Usage: ``python bench/metrics_overhead.py [--orders N] [--repeats R]``. Replays the four
steps of a market order (PENDING -> ROUTING with a split route, ROUTING -> BUILDING,
BUILDING -> SUBMITTED, SUBMITTED -> CONFIRMED) N times through ``Metrics.recorded``, the only
work metrics add to a step (an order store calls it once the step committed). Prints each
repeat as it finishes, then the median per step. No services are needed.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from eterna.adapters.metrics import Metrics
from eterna.domain import steps
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType
from eterna.domain.routes import Route, RouteLeg
from eterna.domain.tokens import SOL, USDC

T0 = datetime(2030, 1, 1, tzinfo=UTC)
ROUTE = Route(
    token_in=SOL,
    token_out=USDC,
    amount_in=Decimal(10),
    amount_out=Decimal(1500),
    min_amount_out=Decimal(1490),
    price_impact_bps=3,
    legs=tuple(
        RouteLeg(venue, f"{venue}-pool", SOL, USDC, Decimal(5), Decimal(750), Decimal("0.01"))
        for venue in ("meteora", "raydium")
    ),
)
STEPS: tuple[steps.Step, ...] = (
    steps.Routed(message="routed", attempt=1, route=ROUTE),
    steps.Built(message="built", pending_tx={"signature": "sig"}),
    steps.Submitted(message="sent", tx_signature="sig"),
    steps.Confirmed(
        message="confirmed",
        tx_signature="sig",
        amount_out=Decimal(1500),
        executed_price=Decimal(150),
    ),
)


Walk = list[tuple[Order, Order, OrderEvent]]


def _order() -> Order:
    return Order(
        id=uuid.uuid4(),
        user_id="bench",
        type=OrderType.MARKET,
        status=OrderStatus.PENDING,
        token_in=SOL,
        token_out=USDC,
        amount_in=Decimal(10),
        slippage_bps=50,
        created_at=T0,
        updated_at=T0,
        last_seq=1,
    )


def _walk() -> Walk:
    """Return the four steps of one order: the order before each, after it, its event."""
    order, walked = _order(), []
    for i, step in enumerate(STEPS, start=1):
        after, event = order.apply(step, T0 + timedelta(milliseconds=3 * i))
        walked.append((order, after, event))
        order = after
    return walked


def _time_recorded(
    metrics: Metrics, walked: list[tuple[Order, Order, OrderEvent]], n: int
) -> float:
    started = time.perf_counter()
    for _ in range(n):
        for before, after, event in walked:
            metrics.recorded(before, after, event)
    return (time.perf_counter() - started) / (n * len(walked))


def run(orders: int, repeats: int) -> None:
    """Time every repeat, print it, then the median."""
    metrics = Metrics(role="worker", mode="distributed", version="bench")
    walked = _walk()
    timings = []
    for r in range(repeats):
        timings.append(_time_recorded(metrics, walked, orders))
        print(
            f"[{r + 1}/{repeats}] {orders * len(walked):,} steps: Metrics.recorded "
            f"{timings[-1] * 1e6:.2f} us",
            flush=True,
        )
    median = statistics.median(timings) * 1e6
    print(f"\nper step, median of {repeats}: Metrics.recorded {median:.2f} us")


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=50_000, help="orders replayed per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="repeats")
    args = parser.parse_args()
    run(args.orders, args.repeats)


if __name__ == "__main__":
    main()

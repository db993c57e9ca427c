"""What metrics cost per order step, in microseconds.

Usage: ``python bench/metrics_overhead.py [--orders N] [--repeats R]``. Replays the four
steps of a market order (PENDING -> ROUTING with a split route, ROUTING -> BUILDING,
BUILDING -> SUBMITTED, SUBMITTED -> CONFIRMED) N times through ``Metrics.stepped``, the only
work metrics add to a step, and through ``MeteredRepository.apply`` over an in-memory
repository that does nothing, against the same repository undecorated. Prints each repeat
as it finishes, then the median per step. No services are needed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from eterna.adapters.metrics import MeteredRepository, Metrics
from eterna.application.ports import OrderRepository, Step
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType
from eterna.domain.routes import Route, RouteLeg
from eterna.domain.state_machine import Trigger, next_status
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
STEPS = (
    Step(Trigger.ROUTE, "routed", 1, route=ROUTE),
    Step(Trigger.BUILD, "built", 1),
    Step(Trigger.SUBMIT, "sent", 1, tx_signature="sig"),
    Step(Trigger.CONFIRM, "confirmed", 1, amount_out=Decimal(1500)),
)


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


def _walk() -> list[tuple[Order, Step, OrderEvent]]:
    """Return the four steps of one order: the order before each, the step, its event."""
    order, walked = _order(), []
    for i, step in enumerate(STEPS, start=1):
        at = T0 + timedelta(milliseconds=3 * i)
        status = next_status(order.status, step.trigger)
        event = OrderEvent(order.id, order.user_id, order.last_seq + 1, status, at, 1, step.message)
        walked.append((order, step, event))
        order = replace(order, status=status, updated_at=at, last_seq=event.seq)
    return walked


class NullRepository:
    """The two writes a step makes, doing nothing (every other call is unused here)."""

    async def apply(
        self, order: Order, step: Step, *, owner: str | None, now: datetime, lease_until: datetime
    ) -> tuple[Order, OrderEvent]:
        return order, self.event

    event: OrderEvent

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


def _time_stepped(metrics: Metrics, steps: list[tuple[Order, Step, OrderEvent]], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        for before, step, event in steps:
            metrics.stepped(before, step, event)
    return (time.perf_counter() - started) / (n * len(steps))


async def _time_apply(
    repo: Any, inner: NullRepository, steps: list[tuple[Order, Step, OrderEvent]], n: int
) -> float:
    started = time.perf_counter()
    for _ in range(n):
        for before, step, event in steps:
            inner.event = event
            await repo.apply(before, step, owner="w", now=event.at, lease_until=event.at)
    return (time.perf_counter() - started) / (n * len(steps))


async def run(orders: int, repeats: int) -> None:
    """Time every repeat, print it, then the medians."""
    metrics = Metrics(role="worker", mode="distributed", version="bench")
    steps = _walk()
    bare = NullRepository()
    metered = MeteredRepository(cast("OrderRepository", bare), metrics)
    stepped, plain, decorated = [], [], []
    for r in range(repeats):
        stepped.append(_time_stepped(metrics, steps, orders))
        plain.append(await _time_apply(bare, bare, steps, orders))
        decorated.append(await _time_apply(metered, bare, steps, orders))
        print(
            f"[{r + 1}/{repeats}] {orders * len(steps):,} steps: Metrics.stepped "
            f"{stepped[-1] * 1e6:.2f} us, apply bare {plain[-1] * 1e6:.2f} us, "
            f"decorated {decorated[-1] * 1e6:.2f} us",
            flush=True,
        )
    overhead = statistics.median(d - p for d, p in zip(decorated, plain, strict=True))
    print(
        f"\nper step, median of {repeats}: Metrics.stepped {statistics.median(stepped) * 1e6:.2f}"
        f" us; MeteredRepository.apply adds {overhead * 1e6:.2f} us over the bare repository"
    )


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=50_000, help="orders replayed per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="repeats")
    args = parser.parse_args()
    asyncio.run(run(args.orders, args.repeats))


if __name__ == "__main__":
    main()

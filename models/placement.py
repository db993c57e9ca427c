"""Placing a batch of orders, the same in every database store.

A repeated (user, clientOrderId) answers with the order placed first: already stored, or
earlier in the same batch. The new orders go in all or none; when a concurrent placement
took a key between the look-up and the insert, they go in one by one and a lost key answers
with its winner. Each store supplies the three database operations.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime

from eterna.application.ports import OpenOrders, Placement
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder

# A new order and its seq-1 event, both made by the domain (PlaceOrder.open).
Opened = tuple[Order, OrderEvent]
Key = tuple[str, str]


async def place_batch(
    commands: Sequence[PlaceOrder],
    now: datetime,
    *,
    existing: Callable[[set[Key]], Awaitable[dict[Key, Order]]],
    insert: Callable[[Sequence[Opened]], Awaitable[None]],
    place_one: Callable[[Opened], Awaitable[Placement]],
    conflict: type[Exception],
) -> list[Placement]:
    """Place the commands (see the module docstring); ``conflict`` is the store's unique error."""
    keys = {(c.user_id, c.client_order_id) for c in commands if c.client_order_id}
    stored = await existing(keys) if keys else {}
    results: list[Placement | None] = [None] * len(commands)
    fresh: list[tuple[int, Opened]] = []
    batch_keys: dict[Key, int] = {}
    for i, cmd in enumerate(commands):
        key = (cmd.user_id, cmd.client_order_id) if cmd.client_order_id else None
        if key is not None and key in stored:
            results[i] = Placement(stored[key], created=False)
        elif key is not None and key in batch_keys:
            continue  # a repeat inside the batch: resolved after the insert
        else:
            if key is not None:
                batch_keys[key] = i
            fresh.append((i, cmd.open(uuid.uuid4(), now)))
    try:
        if fresh:
            await insert([opened for _, opened in fresh])
    except conflict:
        for i, opened in fresh:
            results[i] = await place_one(opened)
    else:
        for i, (order, _) in fresh:
            results[i] = Placement(order, created=True)
    return _answer_repeats(commands, results, batch_keys)


def _answer_repeats(
    commands: Sequence[PlaceOrder], results: list[Placement | None], batch_keys: dict[Key, int]
) -> list[Placement]:
    """Answer each repeat of a key inside the batch with the order its first use placed."""
    for i, cmd in enumerate(commands):
        if results[i] is None:
            first = results[batch_keys[(cmd.user_id, cmd.client_order_id or "")]]
            if first is None:  # every key in batch_keys was resolved by the insert
                raise RuntimeError("unresolved repeat in batch")
            results[i] = Placement(first.order, created=False)
    return [r for r in results if r is not None]


def open_orders_of(counts: Iterable[tuple[object, object, int]]) -> OpenOrders:
    """Sum (status, type, count) rows of unfinished orders into in flight, waiting, conditional."""
    in_flight = waiting = conditional = 0
    for status, kind, n in counts:
        if status == OrderStatus.WAITING.value:
            waiting += n
        else:
            in_flight += n
        if kind != OrderType.MARKET.value:
            conditional += n
    return OpenOrders(in_flight=in_flight, waiting=waiting, conditional=conditional)

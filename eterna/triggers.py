"""The resting book: limit and sniper orders waiting for their trigger, indexed for speed.

Limit orders are kept per (tokenIn, tokenOut) pair, sorted by limit price. The best route for
any amount pays at most the pair's marginal price, so when a market update shows marginal
price P, only orders with ``limitPrice <= P`` can fire: a bisect finds them without touching
the rest. Sniper orders are kept per awaited mint. Expiries sit in a heap.
"""

from __future__ import annotations

import bisect
import heapq
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from eterna.orders import Order, OrderType

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """What the watcher needs to know about a waiting order."""

    order_id: uuid.UUID
    type: OrderType
    mint_in: str
    mint_out: str
    amount_in: Decimal
    limit_price: Decimal | None
    min_liquidity: Decimal | None
    expires_at: datetime | None

    @classmethod
    def of(cls, order: Order) -> RestingOrder:
        """Take the trigger-relevant fields of an order."""
        return cls(
            order_id=order.id,
            type=order.type,
            mint_in=order.token_in.mint,
            mint_out=order.token_out.mint,
            amount_in=order.amount_in,
            limit_price=order.limit_price,
            min_liquidity=order.min_liquidity,
            expires_at=order.expires_at,
        )

    @property
    def pair(self) -> Pair:
        """Return (mint_in, mint_out)."""
        return (self.mint_in, self.mint_out)


class RestingBook:
    """Resting orders by pair and limit price, by awaited mint, and by expiry."""

    def __init__(self) -> None:
        self._orders: dict[uuid.UUID, RestingOrder] = {}
        self._limits: dict[Pair, list[tuple[Decimal, str]]] = {}
        self._snipers: dict[str, set[uuid.UUID]] = {}
        self._expiries: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def __iter__(self) -> Iterator[RestingOrder]:
        return iter(list(self._orders.values()))

    def add(self, order: RestingOrder) -> None:
        """Index an order (adding it again is harmless)."""
        if order.order_id in self._orders:
            return
        self._orders[order.order_id] = order
        if order.type is OrderType.LIMIT and order.limit_price is not None:
            bisect.insort(
                self._limits.setdefault(order.pair, []), (order.limit_price, str(order.order_id))
            )
        elif order.type is OrderType.SNIPER:
            self._snipers.setdefault(order.mint_out, set()).add(order.order_id)
        if order.expires_at is not None:
            heapq.heappush(self._expiries, (order.expires_at, str(order.order_id)))

    def remove(self, order_id: uuid.UUID) -> RestingOrder | None:
        """Forget an order; return it, or None when it was not resting here."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        if order.type is OrderType.LIMIT and order.limit_price is not None:
            book = self._limits.get(order.pair, [])
            key = (order.limit_price, str(order_id))
            i = bisect.bisect_left(book, key)
            if i < len(book) and book[i] == key:
                del book[i]
            if not book:
                self._limits.pop(order.pair, None)
        elif order.type is OrderType.SNIPER:
            waiting = self._snipers.get(order.mint_out)
            if waiting is not None:
                waiting.discard(order_id)
                if not waiting:
                    del self._snipers[order.mint_out]
        # Expiry entries are dropped lazily when they surface.
        return order

    def limit_pairs(self) -> list[Pair]:
        """Return the pairs some limit order rests on."""
        return list(self._limits)

    def limit_candidates(self, pair: Pair, marginal_price: Decimal) -> list[RestingOrder]:
        """Return the pair's limit orders whose limit price is at most the marginal price."""
        book = self._limits.get(pair, [])
        # Every key with a price <= marginal_price sorts before (marginal_price, "\uffff").
        end = bisect.bisect_right(book, (marginal_price, "\uffff"))
        return [self._orders[uuid.UUID(oid)] for _, oid in book[:end]]

    def snipers_for(self, mint: str) -> list[RestingOrder]:
        """Return the sniper orders waiting for mint to become tradeable."""
        return [self._orders[i] for i in self._snipers.get(mint, ())]

    def awaited_mints(self) -> list[str]:
        """Return the mints some sniper order waits for."""
        return list(self._snipers)

    def expired(self, now: datetime) -> list[RestingOrder]:
        """Return (without removing) the resting orders whose expiresAt has passed."""
        due: list[RestingOrder] = []
        while self._expiries and self._expiries[0][0] <= now:
            _, oid = heapq.heappop(self._expiries)
            order = self._orders.get(uuid.UUID(oid))
            if order is not None:
                due.append(order)
        return due

    def next_expiry(self) -> datetime | None:
        """Return the earliest expiry still pending, if any."""
        while self._expiries and uuid.UUID(self._expiries[0][1]) not in self._orders:
            heapq.heappop(self._expiries)
        return self._expiries[0][0] if self._expiries else None

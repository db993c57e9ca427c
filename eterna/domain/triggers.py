"""The resting book: limit, sniper and stop orders waiting for their trigger, indexed for speed.

Limit orders are kept per (tokenIn, tokenOut) pair, sorted by limit price. The best route for
any amount pays at most the pair's marginal price, so when a market update shows marginal
price P, only orders with ``limitPrice <= P`` can fire: a bisect finds them without touching
the rest. Sniper orders are kept per awaited mint, stop orders (:mod:`eterna.domain.stops`)
per pair: every move of the pair's price, either way, may fire one. Expiries sit in a heap.

The conditions themselves are here too, shared by the watcher (which decides when to fire)
and the engine (which checks again on a fresh quote right before trading):

- LIMIT: the best route for the whole amount pays at least ``amountIn x limitPrice``
  tokenOut, rounded up to a base unit (:func:`limit_floor`); that floor is also the
  transaction's ``minAmountOut`` when it is above the slippage floor.
- SNIPER: ``tokenOut`` trades on some venue and, when ``minLiquidity`` is set, the pools that
  pair it with ``tokenIn`` directly hold at least that much tokenIn between them
  (:func:`liquidity_in`). A pool pairing it with another token makes it tradeable (two hops)
  but adds no tokenIn liquidity.
"""

from __future__ import annotations

import bisect
import heapq
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

from eterna.domain.orders import Order, OrderType
from eterna.domain.stop_book import GroupKey, StopEntry, StopGroup, delete_sorted
from eterna.domain.tokens import EXACT, Token

Pair = tuple[str, str]


def limit_floor(amount_in: Decimal, limit_price: Decimal, token_out: Token) -> Decimal:
    """Return the least tokenOut a limit order accepts: amountIn x limitPrice, rounded up."""
    raw = EXACT.multiply(amount_in, limit_price)
    return raw.quantize(Decimal(1).scaleb(-token_out.decimals), rounding=ROUND_CEILING)


def meets_limit(amount_in: Decimal, amount_out: Decimal, limit: Decimal, token_out: Token) -> bool:
    """Tell whether paying amount_out for amount_in meets a limit price (the one rule)."""
    return amount_out >= limit_floor(amount_in, limit, token_out)


@dataclass(frozen=True, slots=True)
class PoolState:
    """A pool as the market data shows it: its tokens and reserves in base units."""

    venue: str
    address: str
    token_a: Token
    token_b: Token
    reserve_a: int
    reserve_b: int
    price: Fraction | None = None  # spot: base units of B per base unit of A

    def a_to_b_for(self, pair: Pair, hubs: frozenset[str]) -> bool | None:
        """Return which way a swap for the pair goes through this pool (None: it does not).

        A route for the pair uses the pool when it trades the pair, or one of the pair's
        tokens against a hub (a leg of a two-hop route): tokenIn -> hub, or hub -> tokenOut.
        """
        mint_in, mint_out = pair
        a, b = self.mints
        if {a, b} == {mint_in, mint_out}:
            return a == mint_in
        if (a == mint_in and b in hubs) or (b == mint_out and a in hubs):
            return True
        if (b == mint_in and a in hubs) or (a == mint_out and b in hubs):
            return False
        return None

    def may_help(self, pair: Pair, hubs: frozenset[str], before: Fraction | None) -> bool:
        """Tell whether this pool's new state may let an order of the pair fire.

        Not when the pool plays no part in the pair's routes, nor when its price moved
        against the pair's swap since ``before``: pools change by trades along their curves
        (the fills of fired orders among them), and such a trade worsens every quote in that
        direction. An unknown before (a launch, a first sight) may always help.
        """
        a_to_b = self.a_to_b_for(pair, hubs)
        if a_to_b is None:
            return False
        if before is None or self.price is None:
            return True
        return self.price >= before if a_to_b else self.price <= before

    @property
    def mints(self) -> tuple[str, str]:
        """Return the mints of both sides."""
        return (self.token_a.mint, self.token_b.mint)

    def token(self, mint: str) -> Token | None:
        """Return the side's token with this mint, or None."""
        if mint == self.token_a.mint:
            return self.token_a
        if mint == self.token_b.mint:
            return self.token_b
        return None

    def reserve(self, mint: str) -> Decimal:
        """Return what the pool holds of the token, in token units (0 if it does not trade it)."""
        if mint == self.token_a.mint:
            return self.token_a.from_base_units(self.reserve_a)
        if mint == self.token_b.mint:
            return self.token_b.from_base_units(self.reserve_b)
        return Decimal(0)


@dataclass(frozen=True, slots=True)
class MarketUpdate:
    """A pool that changed or appeared (kind "created" or "changed"), numbered by the market."""

    seq: int
    kind: str
    pool: PoolState


def liquidity_in(pools: list[PoolState], mint_in: str, mint_out: str) -> Decimal:
    """Return the tokenIn held by the pools that trade tokenIn against tokenOut directly."""
    return sum(
        (p.reserve(mint_in) for p in pools if set(p.mints) == {mint_in, mint_out}), Decimal(0)
    )


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
    max_price_impact_bps: int | None = None
    trigger_price: Decimal | None = None
    trail_bps: int | None = None
    trail_best: Decimal | None = None

    @classmethod
    def of(cls, order: Order) -> RestingOrder:
        """Take the trigger-relevant fields of an order."""
        return cls(
            order_id=order.id,
            type=order.type,
            mint_in=order.token_in.mint,
            mint_out=order.token_out.mint,
            # What must meet the limit for it to fire (eterna.domain.fills).
            amount_in=order.least_fill_in,
            limit_price=order.limit_price,
            min_liquidity=order.min_liquidity,
            expires_at=order.expires_at,
            max_price_impact_bps=order.max_price_impact_bps,
            trigger_price=order.trigger_price,
            trail_bps=order.trail_bps,
            trail_best=order.trail_best,
        )

    @property
    def stop_group(self) -> GroupKey:
        """Return what a stop's observed price depends on: its amount and impact filter."""
        return (self.amount_in, self.max_price_impact_bps)

    def stop_entry(self) -> StopEntry:
        """Return what the stop index keeps of a stop."""
        return StopEntry(
            self.order_id, self.type, self.trigger_price, self.trail_bps, self.trail_best
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
        self._amounts: dict[Pair, list[Decimal]] = {}
        self._snipers: dict[str, set[uuid.UUID]] = {}
        self._stops: dict[Pair, dict[GroupKey, StopGroup]] = {}
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
            bisect.insort(self._amounts.setdefault(order.pair, []), order.amount_in)
        elif order.type is OrderType.SNIPER:
            self._snipers.setdefault(order.mint_out, set()).add(order.order_id)
        elif order.type.is_stop:
            groups = self._stops.setdefault(order.pair, {})
            groups.setdefault(order.stop_group, StopGroup()).add(order.stop_entry())
        if order.expires_at is not None:
            heapq.heappush(self._expiries, (order.expires_at, str(order.order_id)))

    def remove(self, order_id: uuid.UUID) -> RestingOrder | None:
        """Forget an order; return it, or None when it was not resting here."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        if order.type is OrderType.LIMIT and order.limit_price is not None:
            book = self._limits.get(order.pair, [])
            delete_sorted(book, (order.limit_price, str(order_id)))
            delete_sorted(self._amounts.get(order.pair, []), order.amount_in)
            if not book:
                self._limits.pop(order.pair, None)
                self._amounts.pop(order.pair, None)
        elif order.type is OrderType.SNIPER:
            waiting = self._snipers.get(order.mint_out)
            if waiting is not None:
                waiting.discard(order_id)
                if not waiting:
                    del self._snipers[order.mint_out]
        elif order.type.is_stop:
            groups = self._stops.get(order.pair, {})
            group = groups.get(order.stop_group)
            if group is not None:
                group.remove(order_id)
                if not group:
                    del groups[order.stop_group]
                if not groups:
                    self._stops.pop(order.pair, None)
        # Expiry entries are dropped lazily when they surface.
        return order

    def limit_pairs(self) -> list[Pair]:
        """Return the pairs some limit order rests on."""
        return list(self._limits)

    def stop_pairs(self) -> list[Pair]:
        """Return the pairs some stop order rests on."""
        return list(self._stops)

    def stops_for(self, pair: Pair) -> list[RestingOrder]:
        """Return the stop orders resting on the pair."""
        return [
            self._orders[i]
            for group in self._stops.get(pair, {}).values()
            for i in group.order_ids()
        ]

    def stop_groups(
        self, pair: Pair, only: set[uuid.UUID] | None = None
    ) -> list[tuple[GroupKey, StopGroup]]:
        """Return the pair's stop groups (with ``only``: those holding one of these orders)."""
        groups = self._stops.get(pair, {})
        if only is None:
            return list(groups.items())
        keys = {o.stop_group for i in only if (o := self._orders.get(i)) is not None}
        return [(k, groups[k]) for k in keys if k in groups]

    def trail_best(self, order_id: uuid.UUID) -> Decimal | None:
        """Return a resting trailing stop's best price as the index holds it (or None)."""
        order = self._orders.get(order_id)
        if order is None or order.type is not OrderType.TRAILING_STOP:
            return None
        group = self._stops.get(order.pair, {}).get(order.stop_group)
        return None if group is None else group.best_of(order_id)

    def get(self, order_id: uuid.UUID) -> RestingOrder | None:
        """Return the resting order, or None."""
        return self._orders.get(order_id)

    def smallest_amount(self, pair: Pair) -> Decimal | None:
        """Return the smallest amountIn of the pair's limit orders (None when there is none)."""
        amounts = self._amounts.get(pair)
        return amounts[0] if amounts else None

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

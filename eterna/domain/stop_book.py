"""Stops indexed by their trigger, so an observation touches only the stops it fires or raises.

The stops of a pair that share an amount and an impact filter see the same executable price
at every observation (one route serves them all): they form a :class:`StopGroup`. Inside it,
the rule of :func:`eterna.domain.stops.observe` becomes a few bisects:

- STOP_LOSS fires when ``price <= triggerPrice``: the stop-losses are sorted by trigger, and
  the ones at or above the price are a suffix.
- TAKE_PROFIT fires when ``price >= triggerPrice``: a prefix of the take-profits.
- TRAILING_STOP: stops with the same best price sit in one bucket, sorted by ``trailBps``. An
  observation raises every bucket whose best is below the price (and the stops never observed
  yet) to the price, merging them into one bucket: such stops cannot fire then, as their
  trigger is below their own best. In a bucket whose best is at or above the price, the
  trigger ``best x (1 - trailBps / 10 000)`` falls as ``trailBps`` grows, so the stops that
  fire are a prefix, found by a bisect on the trail.

So an observation costs a bisect per bucket plus the stops it fires or raises, instead of a
look at every stop: a falling price raises nothing, and a rising one fires nothing. Buckets
exist only for best prices above the last price seen, one per observation at which stops
that had never been observed were first seen; a rise merges them.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from eterna.domain.status import OrderType
from eterna.domain.stops import trail_trigger

# What a group is keyed by: the order's amountIn and its maxPriceImpactBps.
GroupKey = tuple[Decimal, int | None]


class StopEntry(NamedTuple):
    """What the index needs of a stop."""

    order_id: uuid.UUID
    type: OrderType
    trigger_price: Decimal | None
    trail_bps: int | None
    trail_best: Decimal | None


class _Kept(NamedTuple):
    """A stop as the index keeps it: its kind, its level (a trigger price or a trail)."""

    type: OrderType
    trigger: Decimal  # STOP_LOSS and TAKE_PROFIT
    trail: int  # TRAILING_STOP
    best: Decimal | None


class Observed(NamedTuple):
    """What one observation decided: the stops that fire, and trailing bests it raised."""

    fires: list[uuid.UUID]
    raised: list[tuple[uuid.UUID, Decimal]]


def _level(entry: tuple[Decimal, uuid.UUID]) -> Decimal:
    return entry[0]


def _below(best: Decimal, price: Decimal) -> Callable[[tuple[int, uuid.UUID]], int]:
    """Key of a bucket's members: 1 when a trail's trigger is below the price (no fire)."""

    def key(member: tuple[int, uuid.UUID]) -> int:
        return int(trail_trigger(best, member[0]) < price)

    return key


class StopGroup:
    """The stops of one pair, amount and impact filter, indexed by trigger."""

    def __init__(self) -> None:
        self._losses: list[tuple[Decimal, uuid.UUID]] = []  # (triggerPrice, id), ascending
        self._profits: list[tuple[Decimal, uuid.UUID]] = []
        self._never_seen: list[tuple[int, uuid.UUID]] = []  # trailing stops with no best yet
        self._buckets: dict[Decimal, list[tuple[int, uuid.UUID]]] = {}  # best -> (trail, id)
        self._bests: list[Decimal] = []  # the buckets' keys, ascending
        self._entries: dict[uuid.UUID, _Kept] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._entries

    def order_ids(self) -> list[uuid.UUID]:
        """Return the ids of the stops here."""
        return list(self._entries)

    def best_of(self, order_id: uuid.UUID) -> Decimal | None:
        """Return a trailing stop's best price as the index holds it (None: never seen)."""
        kept = self._entries.get(order_id)
        return None if kept is None else kept.best

    def add(self, entry: StopEntry) -> None:
        """Index a stop (adding one already here replaces it).

        :raises ValueError: for an order that is not a stop, or lacks the field its kind needs.
        """
        order_id = entry.order_id
        self.remove(order_id)
        if entry.type in {OrderType.STOP_LOSS, OrderType.TAKE_PROFIT}:
            if entry.trigger_price is None:
                raise ValueError(f"{entry.type.value} order {order_id} lacks triggerPrice")
            kept = _Kept(entry.type, entry.trigger_price, 0, None)
            book = self._losses if entry.type is OrderType.STOP_LOSS else self._profits
            bisect.insort(book, (kept.trigger, order_id))
        elif entry.type is OrderType.TRAILING_STOP:
            if entry.trail_bps is None:
                raise ValueError(f"TRAILING_STOP order {order_id} lacks trailBps")
            kept = _Kept(entry.type, Decimal(0), entry.trail_bps, entry.trail_best)
            self._insert_trail(kept.best, (kept.trail, order_id))
        else:
            raise ValueError(f"{entry.type.value} is not a stop")
        self._entries[order_id] = kept

    def remove(self, order_id: uuid.UUID) -> bool:
        """Forget a stop; return whether it was here."""
        kept = self._entries.pop(order_id, None)
        if kept is None:
            return False
        if kept.type is OrderType.TRAILING_STOP:
            self._delete_trail(kept.best, (kept.trail, order_id))
        else:
            book = self._losses if kept.type is OrderType.STOP_LOSS else self._profits
            delete_sorted(book, (kept.trigger, order_id))
        return True

    def observe(self, price: Decimal, only: set[uuid.UUID] | None = None) -> Observed:
        """Observe every stop of the group (or only those named) at this executable price.

        Raised bests are kept here at once; the stops that fire stay until removed.
        """
        if only is not None:
            return self._observe_some(price, only)
        losses, profits = self._losses, self._profits
        fires = [i for _, i in losses[bisect.bisect_left(losses, price, key=_level) :]]
        fires += [i for _, i in profits[: bisect.bisect_right(profits, price, key=_level)]]
        raised = self._raise_below(price)
        for best in self._bests[bisect.bisect_left(self._bests, price) :]:
            members = self._buckets[best]
            # The first index whose trigger is below the price; all before it fire.
            end = bisect.bisect_left(members, 1, key=_below(best, price))
            fires += [i for _, i in members[:end]]
        return Observed(fires, raised)

    def may_act(self, low: Decimal, high: Decimal) -> bool:
        """Tell whether an observation at a price in [low, high] could fire or raise a stop.

        False lets the caller skip the route that would give the exact price.
        """
        if self._losses and self._losses[-1][0] >= low:
            return True
        if self._profits and self._profits[0][0] <= high:
            return True
        if self._never_seen or (self._bests and self._bests[0] < high):
            return True  # a best price may rise
        # In each bucket the smallest trail has the highest trigger.
        return any(trail_trigger(b, self._buckets[b][0][0]) >= low for b in self._bests)

    def _observe_some(self, price: Decimal, only: set[uuid.UUID]) -> Observed:
        fires: list[uuid.UUID] = []
        raised: list[tuple[uuid.UUID, Decimal]] = []
        for order_id in only:
            kept = self._entries.get(order_id)
            if kept is None:
                continue
            if kept.type is OrderType.STOP_LOSS:
                if price <= kept.trigger:
                    fires.append(order_id)
                continue
            if kept.type is OrderType.TAKE_PROFIT:
                if price >= kept.trigger:
                    fires.append(order_id)
                continue
            best = kept.best
            if best is None or price > best:
                self._delete_trail(best, (kept.trail, order_id))
                self._insert_trail(price, (kept.trail, order_id))
                self._entries[order_id] = kept._replace(best=price)
                raised.append((order_id, price))
                best = price
            if price <= trail_trigger(best, kept.trail):
                fires.append(order_id)
        return Observed(fires, raised)

    def _raise_below(self, price: Decimal) -> list[tuple[uuid.UUID, Decimal]]:
        """Raise the trailing stops whose best is below the price (or unset) to the price."""
        below = bisect.bisect_left(self._bests, price)
        if below == 0 and not self._never_seen:
            return []
        merged = self._never_seen
        self._never_seen = []
        for best in self._bests[:below]:
            merged += self._buckets.pop(best)
        del self._bests[:below]
        if not merged:
            return []
        for _, order_id in merged:
            self._entries[order_id] = self._entries[order_id]._replace(best=price)
        bucket = self._buckets.get(price)
        if bucket is None:
            self._bests.insert(0, price)  # every key left is at or above the price
            self._buckets[price] = sorted(merged)
        else:
            bucket += merged
            bucket.sort()
        return [(order_id, price) for _, order_id in merged]

    def _insert_trail(self, best: Decimal | None, member: tuple[int, uuid.UUID]) -> None:
        if best is None:
            bisect.insort(self._never_seen, member)
            return
        bucket = self._buckets.get(best)
        if bucket is None:
            bisect.insort(self._bests, best)
            bucket = self._buckets[best] = []
        bisect.insort(bucket, member)

    def _delete_trail(self, best: Decimal | None, member: tuple[int, uuid.UUID]) -> None:
        if best is None:
            delete_sorted(self._never_seen, member)
            return
        bucket = self._buckets.get(best)
        if bucket is None:
            return
        delete_sorted(bucket, member)
        if not bucket:
            del self._buckets[best]
            delete_sorted(self._bests, best)


def delete_sorted(items: list[Any], item: object) -> None:
    """Delete one item from a sorted list, if it is there."""
    i = bisect.bisect_left(items, item)
    if i < len(items) and items[i] == item:
        del items[i]

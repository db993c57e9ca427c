"""The stop index agrees with the rule: same stops fire, same best prices, on random paths."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eterna.domain.status import OrderType
from eterna.domain.stop_book import StopEntry, StopGroup
from eterna.domain.stops import observe

prices = st.integers(min_value=9_000, max_value=11_000).map(lambda c: Decimal(c) / 100)
stop = st.one_of(
    st.tuples(st.just(OrderType.STOP_LOSS), prices, st.none(), st.none()),
    st.tuples(st.just(OrderType.TAKE_PROFIT), prices, st.none(), st.none()),
    st.tuples(
        st.just(OrderType.TRAILING_STOP),
        st.none(),
        st.integers(min_value=1, max_value=500),
        st.none() | prices,
    ),
)
# A step of a path: a price observed by every stop, or new stops observed alone first.
Fields = tuple[OrderType, Decimal | None, int | None, Decimal | None]
step: st.SearchStrategy[tuple[str, Decimal, list[Fields]]] = st.one_of(
    st.tuples(st.just("price"), prices, st.just([])),
    st.tuples(st.just("new"), prices, st.lists(stop, min_size=1, max_size=5)),
)


def _entry(
    kind: OrderType, trigger: Decimal | None, trail: int | None, best: Decimal | None
) -> StopEntry:
    return StopEntry(uuid.uuid4(), kind, trigger, trail, best)


@settings(max_examples=1_000, deadline=None)
@given(st.lists(stop, max_size=40), st.lists(step, min_size=1, max_size=30))
def test_the_index_fires_and_raises_exactly_as_the_rule(
    first: list[tuple[OrderType, Decimal | None, int | None, Decimal | None]],
    path: list[
        tuple[str, Decimal, list[tuple[OrderType, Decimal | None, int | None, Decimal | None]]]
    ],
) -> None:
    group = StopGroup()
    naive: dict[uuid.UUID, StopEntry] = {}
    for fields in first:
        entry = _entry(*fields)
        group.add(entry)
        naive[entry.order_id] = entry
    for kind, price, new in path:
        only: set[uuid.UUID] | None = None
        if kind == "new":
            added = [_entry(*fields) for fields in new]
            for entry in added:
                group.add(entry)
                naive[entry.order_id] = entry
            only = {e.order_id for e in added}
        expected_fires: set[uuid.UUID] = set()
        expected_raised: dict[uuid.UUID, Decimal] = {}
        for order_id, entry in naive.items():
            if only is not None and order_id not in only:
                continue
            seen = observe(
                entry.type,
                price,
                trigger_price=entry.trigger_price,
                trail_bps=entry.trail_bps,
                best=entry.trail_best,
            )
            if seen.raised and seen.best is not None:
                expected_raised[order_id] = seen.best
                naive[order_id] = entry._replace(trail_best=seen.best)
            if seen.fires:
                expected_fires.add(order_id)
        observed = group.observe(price, only)
        assert set(observed.fires) == expected_fires
        assert len(observed.fires) == len(expected_fires)
        assert dict(observed.raised) == expected_raised
        for order_id in expected_fires:  # the watcher takes fired stops out of the book
            assert group.remove(order_id)
            del naive[order_id]
        for order_id, entry in naive.items():
            assert group.best_of(order_id) == entry.trail_best
        assert len(group) == len(naive)


def test_a_fall_fires_a_suffix_and_a_prefix_and_a_rise_raises_every_trail() -> None:
    group = StopGroup()
    losses = [_entry(OrderType.STOP_LOSS, Decimal(100 - i), None, None) for i in range(1_000)]
    trails = [_entry(OrderType.TRAILING_STOP, None, 100 + i, Decimal(100)) for i in range(1_000)]
    for entry in losses + trails:
        group.add(entry)
    # Stop-losses at 100 and 99; trails of 100 to 150 bps below 100 (triggers 99 to 98.5).
    fired = group.observe(Decimal("98.5"))
    assert set(fired.fires) == {e.order_id for e in losses[:2] + trails[:51]}
    assert fired.raised == []
    for order_id in fired.fires:
        group.remove(order_id)
    risen = group.observe(Decimal(101))
    assert risen.fires == []
    assert dict(risen.raised) == {e.order_id: Decimal(101) for e in trails[51:]}
    assert group.best_of(trails[-1].order_id) == Decimal(101)


def test_a_stop_without_its_trigger_is_refused() -> None:
    group = StopGroup()
    with pytest.raises(ValueError, match="lacks triggerPrice"):
        group.add(_entry(OrderType.STOP_LOSS, None, None, None))
    with pytest.raises(ValueError, match="lacks trailBps"):
        group.add(_entry(OrderType.TRAILING_STOP, None, None, None))
    with pytest.raises(ValueError, match="not a stop"):
        group.add(_entry(OrderType.LIMIT, Decimal(1), None, None))
    assert len(group) == 0


@settings(max_examples=1_000, deadline=None)
@given(st.lists(stop, max_size=30), prices, prices, prices)
def test_a_group_that_may_not_act_neither_fires_nor_raises(
    stops: list[Fields], a: Decimal, b: Decimal, c: Decimal
) -> None:
    low, price, high = sorted((a, b, c))
    group = StopGroup()
    for fields in stops:
        group.add(_entry(*fields))
    may_act = group.may_act(low, high)
    observed = group.observe(price)
    if not may_act:
        assert observed == ([], [])

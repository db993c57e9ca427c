import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from eterna.domain.orders import OrderType
from eterna.domain.tokens import SOL, USDC, price_of
from eterna.domain.triggers import RestingBook, RestingOrder

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NEW_MINT = "9" * 32


def limit(price: str, *, expires: datetime | None = None) -> RestingOrder:
    return RestingOrder(
        order_id=uuid.uuid4(),
        type=OrderType.LIMIT,
        mint_in=SOL.mint,
        mint_out=USDC.mint,
        amount_in=Decimal(1),
        limit_price=Decimal(price),
        min_liquidity=None,
        expires_at=expires,
    )


def sniper(mint: str = NEW_MINT) -> RestingOrder:
    return RestingOrder(
        order_id=uuid.uuid4(),
        type=OrderType.SNIPER,
        mint_in=SOL.mint,
        mint_out=mint,
        amount_in=Decimal(1),
        limit_price=None,
        min_liquidity=Decimal(10),
        expires_at=None,
    )


@given(st.lists(st.integers(min_value=1, max_value=1000), max_size=60), st.integers(1, 1000))
def test_limit_candidates_are_exactly_the_orders_at_or_below_the_price(
    prices: list[int], marginal: int
) -> None:
    book = RestingBook()
    orders = [limit(str(p)) for p in prices]
    for order in orders:
        book.add(order)
    found = book.limit_candidates((SOL.mint, USDC.mint), Decimal(marginal))
    expected = {o.order_id for o in orders if Decimal(o.limit_price or 0) <= marginal}
    assert {o.order_id for o in found} == expected
    seen = [Decimal(o.limit_price or 0) for o in found]
    assert seen == sorted(seen)


def test_removed_orders_are_no_longer_candidates_and_remove_is_idempotent() -> None:
    book = RestingBook()
    a, b = limit("100"), limit("100")
    book.add(a)
    book.add(b)
    assert book.remove(a.order_id) == a
    assert book.remove(a.order_id) is None
    assert book.limit_candidates(a.pair, Decimal(200)) == [b]
    book.remove(b.order_id)
    assert book.limit_pairs() == []
    assert len(book) == 0


def test_snipers_are_found_by_awaited_mint() -> None:
    book = RestingBook()
    s = sniper()
    book.add(s)
    assert book.snipers_for(NEW_MINT) == [s]
    assert book.snipers_for(USDC.mint) == []
    book.remove(s.order_id)
    assert book.awaited_mints() == []


def test_expired_orders_surface_once_in_time_order() -> None:
    book = RestingBook()
    late = limit("1", expires=T0 + timedelta(minutes=2))
    early = limit("1", expires=T0 + timedelta(minutes=1))
    gone = limit("1", expires=T0)
    for order in (late, early, gone):
        book.add(order)
    book.remove(gone.order_id)
    assert book.next_expiry() == early.expires_at
    assert book.expired(T0 + timedelta(seconds=90)) == [early]
    assert book.expired(T0 + timedelta(seconds=90)) == []
    assert book.expired(T0 + timedelta(minutes=3)) == [late]


def test_a_price_is_rounded_down_at_18_places_even_past_28_digits() -> None:
    amount_in, amount_out = Decimal(3), Decimal("123456789012.345678902")
    price = price_of(amount_in, amount_out)
    assert price == Decimal("41152263004.115226300666666666")
    assert Fraction(price) * 3 <= Fraction(amount_out)  # never more than was paid

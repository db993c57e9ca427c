from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eterna.domain.tokens import (
    BONK,
    SOL,
    USDC,
    WELL_KNOWN,
    TokenRegistry,
    b58decode,
    b58encode,
    format_amount,
    is_mint_address,
    parse_amount,
)


def test_well_known_mints_are_32_byte_addresses() -> None:
    for token in WELL_KNOWN:
        assert is_mint_address(token.mint), token


@given(st.binary(min_size=0, max_size=64))
def test_base58_round_trips_any_bytes(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


def test_is_mint_address_rejects_bad_alphabet_and_length() -> None:
    assert not is_mint_address("0" * 44)  # 0 is not base58
    assert not is_mint_address("abc")
    assert not is_mint_address(b58encode(bytes(30) + b"\x01"))


@given(st.integers(min_value=1, max_value=10**20))
def test_base_units_round_trip_exactly(units: int) -> None:
    for token in (SOL, USDC, BONK):
        assert token.to_base_units(token.from_base_units(units)) == units


def test_amount_beyond_decimals_raises_instead_of_rounding() -> None:
    with pytest.raises(ValueError, match="decimals"):
        USDC.to_base_units(Decimal("1.0000001"))
    assert SOL.to_base_units(Decimal("1.123456789")) == 1_123_456_789


@pytest.mark.parametrize(
    ("text", "rendered"),
    [("1.25", "1.25"), ("100", "100"), ("1.500", "1.5"), ("0.000000001", "0.000000001")],
)
def test_amounts_parse_and_render_without_exponent(text: str, rendered: str) -> None:
    assert format_amount(parse_amount(text)) == rendered


@pytest.mark.parametrize("text", ["", "abc", "1e5", "NaN", "Infinity", "1,5"])
def test_parse_amount_rejects_non_plain_decimals(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_amount(text)


def test_registry_finds_tokens_by_symbol_case_insensitively_and_by_mint() -> None:
    registry = TokenRegistry()
    assert registry.get("sol") is SOL
    assert registry.get(USDC.mint) is USDC
    assert registry.get("NOPE") is None

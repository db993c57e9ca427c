"""Tokens, mint addresses and exact amounts.

Amounts travel as :class:`~decimal.Decimal` in token units and are converted to integer base
units (``amount * 10**decimals``) only at the AMM boundary. A conversion that would lose a unit
raises instead of rounding.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}

# Amounts are exact; this context only guards division and quantisation.
EXACT = decimal.Context(prec=60, rounding=decimal.ROUND_DOWN, traps=[decimal.InvalidOperation])
# Prices (tokenOut per 1 tokenIn) are kept to 18 places.
PRICE_QUANTUM = Decimal(10) ** -18


def b58encode(data: bytes) -> str:
    """Encode bytes as base58 (the Bitcoin alphabet Solana uses)."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(_B58_ALPHABET[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode base58 text; raise ValueError on a character outside the alphabet."""
    n = 0
    for ch in text:
        try:
            n = n * 58 + _B58_INDEX[ch]
        except KeyError:
            raise ValueError(f"invalid base58 character {ch!r}") from None
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def is_mint_address(text: str) -> bool:
    """Tell whether text is a base58 32-byte address, the shape of every Solana mint."""
    if not 32 <= len(text) <= 44:
        return False
    try:
        return len(b58decode(text)) == 32
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Token:
    """An SPL token: its mint, ticker and number of decimals."""

    mint: str
    symbol: str | None
    decimals: int

    def to_base_units(self, amount: Decimal) -> int:
        """Convert token units to integer base units; raise ValueError if a unit would be lost."""
        scaled = amount.scaleb(self.decimals, context=EXACT)
        if scaled != scaled.to_integral_value(context=EXACT):
            raise ValueError(f"{amount} has more than {self.decimals} decimals")
        return int(scaled)

    def from_base_units(self, units: int) -> Decimal:
        """Convert integer base units to an exact Decimal in token units."""
        return Decimal(units).scaleb(-self.decimals, context=EXACT)

    @property
    def label(self) -> str:
        """Return the symbol when known, else the mint."""
        return self.symbol or self.mint


SOL = Token("So11111111111111111111111111111111111111112", "SOL", 9)
USDC = Token("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "USDC", 6)
USDT = Token("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", "USDT", 6)
BONK = Token("DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263", "BONK", 5)
JUP = Token("JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", "JUP", 6)
RAY = Token("4k3Dyjzvzp8eMZWUXbBCjEvwSkkk59S5iCNLY3QrkX6R", "RAY", 6)

WELL_KNOWN: tuple[Token, ...] = (SOL, USDC, USDT, BONK, JUP, RAY)


class TokenRegistry:
    """Tokens the engine can trade, looked up by symbol (case-insensitive) or mint."""

    def __init__(self, tokens: Iterable[Token] = WELL_KNOWN) -> None:
        self._by_mint: dict[str, Token] = {}
        self._by_symbol: dict[str, Token] = {}
        for token in tokens:
            self.add(token)

    def add(self, token: Token) -> None:
        """Register a token (a launch adds new ones at run time)."""
        self._by_mint[token.mint] = token
        if token.symbol:
            self._by_symbol[token.symbol.upper()] = token

    def get(self, ref: str) -> Token | None:
        """Return the token for a symbol or mint, or None when unknown."""
        return self._by_mint.get(ref) or self._by_symbol.get(ref.upper())

    def __iter__(self) -> Iterator[Token]:
        return iter(self._by_mint.values())

    def __len__(self) -> int:
        return len(self._by_mint)


def price_of(amount_in: Decimal, amount_out: Decimal) -> Decimal:
    """Return tokenOut per 1 tokenIn, rounded down to 18 places."""
    price = EXACT.divide(amount_out, amount_in)
    return price.quantize(PRICE_QUANTUM, context=EXACT).normalize(context=EXACT)


def format_amount(value: Decimal) -> str:
    """Render an exact decimal without exponent and without trailing zeros ("1.5", "100")."""
    if value == 0:
        return "0"
    return format(value.normalize(context=EXACT), "f")


def parse_amount(text: str) -> Decimal:
    """Parse a wire amount ("1.25"); raise ValueError on anything but a finite plain decimal."""
    stripped = text.strip()
    if not stripped or any(c not in "0123456789.-+" for c in stripped):
        raise ValueError(f"not a decimal number: {text!r}")
    try:
        value = Decimal(stripped)
    except decimal.InvalidOperation:
        raise ValueError(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value

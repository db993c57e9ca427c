"""Fills: what each trade of an order spent and received, and partial fills of limit orders.

A LIMIT order fills in parts unless it says ``allOrNone``: when the best route for the whole
remaining amount pays below the limit, the largest part that meets it trades (at least the
order's ``min_fill``, or all that remains when less is left), and the rest waits for its
trigger again. Each trade is a :class:`Fill`; the order's ``filled_in``, ``amount_out`` and
``executed_price`` are cumulative over its fills. A cancel or an expiry ends what remains and
leaves the filled part as it is.

:func:`largest_fill` finds that part: the output of the best route is concave in its input,
so ``output(x) - x * limit`` is too, positive near zero when the marginal price beats the
limit, and the parts meeting the limit are one interval from zero. Halving the bracket in
ratio over route quotes narrows it to :data:`FILL_TOLERANCE` of the part, each quote rounded
to a base unit of tokenIn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from eterna.domain.tokens import EXACT, Token, format_amount

# An order fills in at most this many parts: every part but the last spends at least
# 1/MAX_FILLS of its amountIn, so its fills (stored with it) stay few.
MAX_FILLS = 100
LEAST_MIN_FILL_BPS = 10_000 // MAX_FILLS
# Default least part of an order one fill may spend, in bps of its amountIn (a setting).
DEFAULT_MIN_FILL_BPS = LEAST_MIN_FILL_BPS
# The part found is within this fraction of the largest part meeting the limit.
FILL_TOLERANCE = Decimal("0.002")
# Quotes a search may take before it settles for the best part found so far.
MAX_FILL_QUOTES = 24


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of an order: tokenIn spent, tokenOut received, at what price, in which tx.

    ``seq``: the order's event that recorded it; ``simulated``: a dry run's fill, nothing sent.
    """

    amount_in: Decimal
    amount_out: Decimal
    price: Decimal
    tx_signature: str | None
    at: datetime
    seq: int
    simulated: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the fill as stored on the order and carried on its event."""
        data: dict[str, Any] = {
            "amountIn": format_amount(self.amount_in),
            "amountOut": format_amount(self.amount_out),
            "price": format_amount(self.price),
            "txSignature": self.tx_signature,
            "at": self.at.isoformat(),
            "seq": self.seq,
        }
        if self.simulated:
            data["simulated"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fill:
        """Read a fill written by :meth:`to_json`."""
        return cls(
            amount_in=Decimal(data["amountIn"]),
            amount_out=Decimal(data["amountOut"]),
            price=Decimal(data["price"]),
            tx_signature=data.get("txSignature"),
            at=datetime.fromisoformat(data["at"]),
            seq=int(data["seq"]),
            simulated=bool(data.get("simulated", False)),
        )


def default_min_fill(amount_in: Decimal, token_in: Token, min_fill_bps: int) -> Decimal:
    """Return the least part of amount_in one fill may spend: min_fill_bps of it, rounded up.

    At least one base unit of tokenIn, at most the whole amount.
    """
    unit = Decimal(1).scaleb(-token_in.decimals)
    part = EXACT.multiply(amount_in, Decimal(min_fill_bps)) / Decimal(10_000)
    part = part.quantize(unit, rounding=ROUND_CEILING, context=EXACT)
    return min(max(part, unit), amount_in)


Meets = Callable[[Decimal], Awaitable[Decimal | None]]


async def largest_fill(
    least: Decimal,
    most: Decimal,
    *,
    limit: Decimal,
    token_in: Token,
    output: Meets,
    tolerance: Decimal = FILL_TOLERANCE,
    max_quotes: int = MAX_FILL_QUOTES,
) -> Decimal | None:
    """Return the largest part in ``[least, most)`` whose output meets ``limit``, or None.

    ``output(x)``: what the best route pays for x (None when nothing routes); the caller
    found that ``most`` does not meet the limit. None: not even ``least`` does. The part
    returned meets the limit on its own quote; it is within ``tolerance`` of the largest
    such part (or the best found after ``max_quotes`` quotes), rounded down to a base unit
    of tokenIn.

    The bracket is halved in ratio (the geometric mean of its ends), so the quotes needed
    depend only on ``most / least`` and the tolerance: 1 + log2(ln(most / least) /
    ln(1 + tolerance)), 13 for a least fill of 1 %. Faster rules (false position on the
    gap) stall where a route pays one price for a while, as a DLMM bin does, and then
    falls off.
    """
    unit = Decimal(1).scaleb(-token_in.decimals)

    async def meets(amount: Decimal) -> bool:
        paid = await output(amount)
        return paid is not None and paid >= EXACT.multiply(amount, limit)

    if not await meets(least):
        return None
    low, high = least, most
    for _ in range(max_quotes - 1):
        if high - low <= unit or high <= EXACT.multiply(low, 1 + tolerance):
            break
        guess = EXACT.multiply(low, high).sqrt(EXACT)
        guess = guess.quantize(unit, rounding=ROUND_DOWN, context=EXACT)
        if guess <= low:
            guess = low + unit
        if guess >= high:
            break
        if await meets(guess):
            low = guess
        else:
            high = guess
    return low

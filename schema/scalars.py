"""The Decimal scalar: exact amounts as strings on the wire, and only as strings.

One contract for every client: a JSON number is refused, integers included. A float has
already lost digits, and an integer beyond 2^53 has in most JSON parsers (JavaScript's
among them), so accepting integers would make ``1`` work and ``9007199254740993`` quietly
wrong depending on the client. The README, the scalar's description and this parser agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from eterna.domain.tokens import format_amount, parse_amount


def _parse(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('Decimal must be a string such as "1.25", not a JSON number')
    return parse_amount(value)


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a JSON string, e.g. "1.25". A JSON number '
    "(integer or float) is refused: it may have lost digits before it arrived.",
    serialize=format_amount,
    parse_value=_parse,
)

"""The Decimal scalar: exact amounts as strings on the wire."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from eterna.domain.tokens import format_amount, parse_amount


def _parse(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        # A JSON float has already lost digits; only a string (or an integer) is exact.
        raise ValueError('Decimal must be a string such as "1.25"')
    return parse_amount(str(value))


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a string, e.g. "1.25". Never a float.',
    serialize=format_amount,
    parse_value=_parse,
)

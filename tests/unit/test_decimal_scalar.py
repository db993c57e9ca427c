"""Amounts: a string is the only accepted form, in variables and in the document alike."""

from __future__ import annotations

from typing import Any

import pytest

from schema import schema

pytestmark = pytest.mark.anyio

QUOTE = (
    'query($a: Decimal!) { quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: $a) { __typename } }'
)


async def _errors(query: str, variables: dict[str, Any] | None = None) -> list[str]:
    result = await schema.execute(query, variable_values=variables)
    return [e.message for e in result.errors or ()]


@pytest.mark.parametrize("amount", ["1", "1.25", "0.000000001", "18446744073709551615"])
async def test_a_string_amount_is_accepted(amount: str) -> None:
    # The quote itself may be refused (no router here); the amount got through coercion.
    messages = await _errors(QUOTE, {"a": amount})
    assert not any("Decimal" in m for m in messages), messages


@pytest.mark.parametrize("amount", [1, 1.25, 9007199254740993, True, None, [], {}])
async def test_a_json_number_or_other_value_is_refused_in_variables(amount: Any) -> None:
    messages = await _errors(QUOTE, {"a": amount})
    assert len(messages) == 1, messages
    assert "$a" in messages[0], messages


@pytest.mark.parametrize("literal", ["1", "1.25"])
async def test_a_number_literal_in_the_document_is_refused(literal: str) -> None:
    query = f'{{ quote(tokenIn: "SOL", tokenOut: "USDC", amountIn: {literal}) {{ __typename }} }}'
    messages = await _errors(query)
    assert len(messages) == 1, messages
    assert "Decimal" in messages[0], messages


async def test_the_refusal_says_to_send_a_string() -> None:
    (message,) = await _errors(QUOTE, {"a": 1})
    assert 'must be a string such as "1.25"' in message

"""Which budget a read spends from: by address without a token, by user for quotes."""

from __future__ import annotations

import pytest

from eterna.application.ratelimit import InMemoryRateLimiter, RateLimit, RateLimitedError
from eterna.application.read_budgets import ReadBudgets

pytestmark = pytest.mark.anyio


def _budgets(anonymous: int, quotes: int) -> ReadBudgets:
    clock = lambda: 0.0  # noqa: E731 - time stands still: nothing refills
    return ReadBudgets(
        anonymous=InMemoryRateLimiter(RateLimit(anonymous), clock=clock),
        quotes=InMemoryRateLimiter(RateLimit(quotes), clock=clock),
    )


async def test_reads_without_a_user_spend_the_budget_of_their_address() -> None:
    budgets = _budgets(anonymous=2, quotes=100)
    for quote in (True, False):
        await budgets.spend(user_id=None, client_key="198.51.100.1", quote=quote)
    with pytest.raises(RateLimitedError) as refused:
        await budgets.spend(user_id=None, client_key="198.51.100.1", quote=False)
    assert refused.value.retry_after_seconds == pytest.approx(30.0)
    await budgets.spend(user_id=None, client_key="198.51.100.2", quote=True)


async def test_a_users_quotes_spend_their_quote_budget_and_other_reads_nothing() -> None:
    budgets = _budgets(anonymous=1, quotes=1)
    for _ in range(5):
        await budgets.spend(user_id="alice", client_key="198.51.100.1", quote=False)
    await budgets.spend(user_id="alice", client_key="198.51.100.1", quote=True)
    with pytest.raises(RateLimitedError):
        await budgets.spend(user_id="alice", client_key="198.51.100.1", quote=True)
    await budgets.spend(user_id="bob", client_key="198.51.100.1", quote=True)
    await budgets.spend(user_id=None, client_key="198.51.100.1", quote=False)  # untouched

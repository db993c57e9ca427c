"""Dry run and simulation before sending, end to end on the local chain (embedded mode).

In dry-run mode an order runs up to and including the simulation of its real transaction,
ends CONFIRMED with the simulated fill (``simulated: true``), and the chain's ledger holds
no transaction carrying its id. With simulation on, a transaction the simulation says would
fail is never sent: the order fails with a typed failure and the ledger stays empty.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eterna.adapters.solana.ids import TOKEN_PROGRAM, USDC_MINT
from eterna.adapters.solana.spl import associated_token_address, encode_token_account
from eterna.entrypoints.config import Settings
from tests.e2e.conftest import Api, _running
from tests.e2e.test_market_orders import MARKET_1_SOL, ledger_of, place

pytestmark = pytest.mark.anyio

ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id status amountOut executedPrice txSignature simulated failureReason
    route { amountOut minAmountOut }
    events {
      seq status message simulated amountOut failure
      landing {
        priorityFeeMicroLamports computeUnitLimit simulated simulatedUnits
        simulatedAmountOut simulationError
      }
    }
  }
}
"""


async def finished(api: Api, order_id: str) -> dict[str, Any]:
    for _ in range(400):
        body = await api.gql(ORDER, {"id": order_id})
        assert "errors" not in body, body
        order: dict[str, Any] = body["data"]["order"]
        if order["status"] in {"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"}:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} did not finish")


@pytest.fixture
async def dry_api(data_dir: Path) -> AsyncIterator[Api]:
    settings = Settings(data_dir=data_dir, chain_slot_ms=0, dry_run=True)
    async with _running(settings) as running:
        yield running


@pytest.fixture
async def simulating_api(data_dir: Path) -> AsyncIterator[Api]:
    settings = Settings(data_dir=data_dir, chain_slot_ms=0, simulate=True)
    async with _running(settings) as running:
        yield running


async def test_a_dry_run_order_ends_with_the_simulated_fill_and_nothing_lands(
    dry_api: Api,
) -> None:
    placed = await place(dry_api, MARKET_1_SOL)
    order_id = placed["order"]["id"]
    order = await finished(dry_api, order_id)
    assert order["status"] == "CONFIRMED", order
    assert order["simulated"] is True
    assert order["txSignature"] is None
    statuses = [e["status"] for e in order["events"]]
    assert statuses == ["PENDING", "ROUTING", "BUILDING", "CONFIRMED"]
    building, confirmed = order["events"][2], order["events"][3]
    landing = building["landing"]
    assert landing["simulated"] is True
    assert landing["simulationError"] is None
    assert 10_000 < landing["simulatedUnits"] < landing["computeUnitLimit"]
    # The simulated fill is the route's quote to the base unit (quote == program), and the
    # order's amount out is that fill.
    fill = Decimal(landing["simulatedAmountOut"]).scaleb(-6)
    assert Decimal(order["amountOut"]) == fill
    assert Decimal(order["route"]["amountOut"]) == fill
    assert Decimal(order["executedPrice"]) == fill  # 1 SOL in
    assert confirmed["simulated"] is True
    assert Decimal(confirmed["amountOut"]) == fill
    assert all(e["simulated"] is False for e in order["events"][:3])
    # Nothing was sent: the chain's ledger has no transaction carrying the order's id.
    assert ledger_of(dry_api, order_id) == []


async def test_a_failing_simulation_fails_the_order_typed_and_sends_nothing(
    simulating_api: Api,
) -> None:
    chain = simulating_api.runtime.chain
    assert chain is not None
    # Empty the wallet's USDC: a USDC sale would fail in the token program, not on price.
    wallet = chain.wallet.pubkey()
    account = associated_token_address(wallet, USDC_MINT)
    info = chain.chain.token_account(account)
    chain.chain.put_account(
        account,
        encode_token_account(dataclasses.replace(info, amount=0)),
        TOKEN_PROGRAM,
    )
    sell = {"type": "MARKET", "tokenIn": "USDC", "tokenOut": "SOL", "amountIn": "100"}
    placed = await place(simulating_api, sell)
    order_id = placed["order"]["id"]
    order = await finished(simulating_api, order_id)
    assert order["status"] == "FAILED", order
    assert "nothing sent" in order["failureReason"]
    assert order["txSignature"] is None
    assert order["events"][-1]["failure"] == "SIMULATION_FAILED"
    assert "BUILDING" not in [e["status"] for e in order["events"]]
    assert ledger_of(simulating_api, order_id) == []


async def test_with_simulation_on_an_order_lands_within_the_simulated_limit(
    simulating_api: Api,
) -> None:
    placed = await place(simulating_api, MARKET_1_SOL)
    order_id = placed["order"]["id"]
    order = await finished(simulating_api, order_id)
    assert order["status"] == "CONFIRMED", order
    assert order["simulated"] is False
    landing = order["events"][2]["landing"]
    (entry,) = ledger_of(simulating_api, order_id)
    assert entry.ok
    assert entry.compute_units <= landing["computeUnitLimit"]
    assert Decimal(order["amountOut"]) == Decimal(landing["simulatedAmountOut"]).scaleb(-6)

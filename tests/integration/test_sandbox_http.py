"""The venue adapters over the sandbox's HTTP API (in-process transport), with faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from fractions import Fraction

import httpx
import pytest

from eterna.adapters.sandbox.genesis import genesis_market
from eterna.adapters.sandbox.server import create_sandbox_app
from eterna.adapters.sandbox.service import FaultSettings, SandboxService
from eterna.adapters.venues.http import (
    HttpGateway,
    SandboxClient,
    pool_updates,
    tokens_of,
    venues_of,
)
from eterna.adapters.venues.sandbox import SandboxVenue
from eterna.domain.errors import VenueUnavailableError
from eterna.domain.tokens import SOL, USDC
from eterna.routing.router import Router
from eterna.routing.venues import SwapInstruction, SwapRequest, TxState

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[SandboxService, SandboxClient]]:
    service = SandboxService(genesis_market(7, slot_ms=0), seed=1)
    app = create_sandbox_app(service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield service, SandboxClient(http)


async def _route_and_request(client: SandboxClient, amount: str) -> SwapRequest:
    router = Router(await venues_of(client))
    decision = await router.route(SOL, USDC, Decimal(amount), slippage_bps=50)
    route = decision.route
    return SwapRequest(
        memo="order-1",
        payer="alice",
        mint_in=SOL.mint,
        mint_out=USDC.mint,
        swaps=SwapInstruction.for_route(route),
        min_amount_out=USDC.to_base_units(route.min_amount_out),
    )


async def test_http_quotes_equal_in_process_quotes(
    sandbox: tuple[SandboxService, SandboxClient],
) -> None:
    service, client = sandbox
    over_http = await Router(await venues_of(client)).route(SOL, USDC, Decimal(25), slippage_bps=50)
    local = await Router([SandboxVenue(service.market, v) for v in service.market.venues()]).route(
        SOL, USDC, Decimal(25), slippage_bps=50
    )
    assert over_http.route == local.route
    assert {t.symbol for t in await tokens_of(client)} >= {"SOL", "USDC", "USDT", "BONK"}


async def test_a_transaction_lands_once_however_often_it_is_sent(
    sandbox: tuple[SandboxService, SandboxClient],
) -> None:
    service, client = sandbox
    gateway = HttpGateway(client)
    tx = await gateway.build(await _route_and_request(client, "3"))
    for _ in range(3):
        await gateway.send(tx)
    status = await gateway.status(tx)
    assert status.state is TxState.CONFIRMED
    assert status.amount_out is not None
    assert status.amount_out >= tx.min_amount_out
    ledger = await client.call("GET", "/ledger", params={"memo": "order-1"})
    assert len(ledger) == 1
    assert ledger[0]["signature"] == tx.signature
    assert len(service.market.ledger("order-1")) == 1


async def test_injected_errors_surface_as_venue_unavailable(
    sandbox: tuple[SandboxService, SandboxClient],
) -> None:
    service, client = sandbox
    service.faults = FaultSettings(error_rate=1.0)
    with pytest.raises(VenueUnavailableError):
        await (await venues_of(client))[0].quote(SOL, USDC, 10**9)


async def test_dropped_transaction_is_unknown_until_rebroadcast(
    sandbox: tuple[SandboxService, SandboxClient],
) -> None:
    service, client = sandbox
    gateway = HttpGateway(client)
    tx = await gateway.build(await _route_and_request(client, "1"))
    service.faults = FaultSettings(drop_rate=1.0)
    await gateway.send(tx)
    assert (await gateway.status(tx)).state is TxState.UNKNOWN
    service.faults = FaultSettings()
    await gateway.send(tx)
    assert (await gateway.status(tx)).state is TxState.CONFIRMED


async def test_expired_blockhash_never_lands(sandbox: tuple[SandboxService, SandboxClient]) -> None:
    service, client = sandbox
    service.faults = FaultSettings(expire_rate=1.0)
    gateway = HttpGateway(client)
    tx = await gateway.build(await _route_and_request(client, "1"))
    service.faults = FaultSettings()
    await gateway.send(tx)
    assert (await gateway.status(tx)).state is TxState.EXPIRED
    assert service.market.ledger("order-1") == []


async def test_price_move_before_landing_fails_on_slippage(
    sandbox: tuple[SandboxService, SandboxClient],
) -> None:
    service, client = sandbox
    gateway = HttpGateway(client)
    tx = await gateway.build(await _route_and_request(client, "1"))
    service.faults = FaultSettings(price_move_rate=1.0, price_move_bps=300)
    await gateway.send(tx)
    status = await gateway.status(tx)
    assert status.state is TxState.FAILED
    assert status.error == "SlippageToleranceExceeded"
    (row,) = service.market.ledger("order-1")
    assert not row.success


async def test_fault_settings_are_validated(sandbox: tuple[SandboxService, SandboxClient]) -> None:
    _, client = sandbox
    with pytest.raises(Exception, match="400"):
        await client.call("POST", "/admin/faults", body={"errorRate": 2})
    with pytest.raises(Exception, match="400"):
        await client.call("POST", "/admin/faults", body={"bogus": 1})
    answer = await client.call("POST", "/admin/faults", body={"latencyMs": 5, "dropRate": 0.1})
    assert answer["latencyMs"] == 5
    assert answer["dropRate"] == 0.1
    assert answer["injected"] == {
        "rpcErrors": 0,
        "droppedTransactions": 0,
        "expiredBlockhashes": 0,
        "priceMoves": 0,
    }


async def test_injected_faults_are_counted(sandbox: tuple[SandboxService, SandboxClient]) -> None:
    service, client = sandbox
    await client.call("POST", "/admin/faults", body={"errorRate": 1})
    for _ in range(3):
        with pytest.raises(VenueUnavailableError):
            await service.rpc()
    answer = await client.call("GET", "/admin/faults")
    assert answer["injected"]["rpcErrors"] == 3


async def test_updates_stream_reports_pool_changes_in_order(
    sandbox: tuple[SandboxService, SandboxClient],
) -> None:
    service, client = sandbox
    pool = next(
        p for p in service.market.pools("raydium") if p.token_a == SOL and p.token_b == USDC
    )
    before = service.last_update
    moved = await client.call("POST", "/admin/move-price", body={"pool": pool.address, "bps": 200})
    # Prices travel as exact fractions ("num/den"), raw units of B per unit of A.
    assert Fraction(moved["price"]) < pool.math.spot_price(a_to_b=True) * Fraction(99, 100)
    stream = pool_updates(client, after=before, wait_ms=100)
    update = await anext(stream)
    assert update["seq"] == before + 1
    assert update["kind"] == "changed"
    assert update["pool"]["address"] == pool.address

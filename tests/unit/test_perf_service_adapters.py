"""In-process service adapters answer exactly as the HTTP adapters over the sandbox's app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from eterna.adapters.sandbox.server import create_sandbox_app
from eterna.adapters.sandbox.service import FaultSettings, SandboxService
from eterna.adapters.venues.http import HttpGateway, HttpMarketData, SandboxClient, venues_of
from eterna.adapters.venues.sandbox import ServiceGateway, ServiceMarketData, ServiceVenue
from eterna.application.ports import MarketData
from eterna.domain.errors import VenueError, VenueUnavailableError
from eterna.domain.tokens import BONK, SOL, USDC, Token
from eterna.domain.triggers import MarketUpdate
from eterna.entrypoints.bootstrap import build_sandbox
from eterna.entrypoints.config import Settings
from eterna.routing import split
from eterna.routing.venues import ChainGateway, SwapInstruction, SwapRequest, VenueAdapter

pytestmark = pytest.mark.anyio


@dataclass
class Side:
    service: SandboxService
    venues: list[VenueAdapter]
    gateway: ChainGateway
    client: SandboxClient


@pytest.fixture
async def twins() -> AsyncIterator[tuple[Side, Side]]:
    """The same seeded sandbox twice: one behind its HTTP app, one called in process."""
    settings = Settings(chain_slot_ms=0, sandbox_seed=5)
    over_http, in_process = build_sandbox(settings), build_sandbox(settings)
    app = create_sandbox_app(over_http, manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as http:
        client = SandboxClient(http)
        listed = await venues_of(client)
        http_side = Side(over_http, list(listed), HttpGateway(client), client)
        service_side = Side(
            in_process,
            [ServiceVenue(in_process, v.name) for v in listed],
            ServiceGateway(in_process),
            client,
        )
        yield http_side, service_side


async def _outcome(call: Any) -> Any:
    try:
        return ("ok", await call)
    except (VenueError, VenueUnavailableError) as exc:
        return (type(exc).__name__, str(exc))


async def _quote_all(side: Side, pairs: list[tuple[Token, Token, int]]) -> list[Any]:
    out = []
    for venue in side.venues:
        out.append(await venue.info())
        for token_in, token_out, amount in pairs:
            ladder = split.ladder(amount, 20)
            out.append(await _outcome(venue.quote_amounts(token_in, token_out, ladder)))
            out.append(await _outcome(venue.quote(token_in, token_out, amount)))
        out.append(await _outcome(venue.quote_amounts(SOL, USDC, [5, 0])))
    return out


async def _trade(side: Side, amount: int) -> list[Any]:
    (quote, *_) = sorted(await side.venues[0].quote(SOL, USDC, amount), key=lambda q: -q.amount_out)
    request = SwapRequest(
        memo="order-1",
        payer="alice",
        mint_in=SOL.mint,
        mint_out=USDC.mint,
        swaps=(SwapInstruction(quote.venue, quote.pool, SOL.mint, USDC.mint, amount),),
        min_amount_out=quote.amount_out * 99 // 100,
    )
    out: list[Any] = []
    built = await _outcome(side.gateway.build(request))
    out.append(built)
    if built[0] == "ok":
        tx = built[1]
        out.append(await _outcome(side.gateway.status(tx)))
        out.append(await _outcome(side.gateway.send(tx)))
        out.append(await _outcome(side.gateway.status(tx)))
        out.append(await _outcome(side.gateway.send(tx)))
    return out


async def test_quotes_and_trades_are_the_same_either_way(twins: tuple[Side, Side]) -> None:
    pairs = [
        (SOL, USDC, SOL.to_base_units(Decimal("0.5"))),
        (USDC, SOL, USDC.to_base_units(Decimal("75"))),
        (BONK, SOL, BONK.to_base_units(Decimal("1000000"))),
        (SOL, USDC, 10**30),  # more than any pool holds
    ]
    http_side, service_side = twins
    assert await _quote_all(service_side, pairs) == await _quote_all(http_side, pairs)
    for amount in (10**8, 3 * 10**8, 10**9):
        assert await _trade(service_side, amount) == await _trade(http_side, amount)
    assert service_side.service.market.ledger() == http_side.service.market.ledger()


async def test_faults_and_their_errors_are_the_same_either_way(
    twins: tuple[Side, Side],
) -> None:
    faults = FaultSettings(error_rate=0.3, drop_rate=0.2, expire_rate=0.2, price_move_rate=0.2)
    http_side, service_side = twins
    http_side.service.faults = service_side.service.faults = faults
    pairs = [(SOL, USDC, SOL.to_base_units(Decimal("0.25")))]
    for _ in range(6):
        assert await _quote_all(service_side, pairs) == await _quote_all(http_side, pairs)
    for amount in (10**8, 2 * 10**8):
        assert await _trade_with_faults(service_side, amount) == await _trade_with_faults(
            http_side, amount
        )
    assert service_side.service.market.ledger() == http_side.service.market.ledger()


async def _trade_with_faults(side: Side, amount: int) -> list[Any]:
    saved = side.service.faults
    side.service.faults = FaultSettings()
    (quote, *_) = await side.venues[0].quote(SOL, USDC, amount)
    side.service.faults = saved
    request = SwapRequest(
        memo="order-2",
        payer="bob",
        mint_in=SOL.mint,
        mint_out=USDC.mint,
        swaps=(SwapInstruction(quote.venue, quote.pool, SOL.mint, USDC.mint, amount),),
        min_amount_out=quote.amount_out * 98 // 100,
    )
    out: list[Any] = []
    for _ in range(4):
        built = await _outcome(side.gateway.build(request))
        out.append(built)
        if built[0] != "ok":
            continue
        for _ in range(3):
            out.append(await _outcome(side.gateway.send(built[1])))
            out.append(await _outcome(side.gateway.status(built[1])))
    return out


async def test_market_data_is_the_same_either_way(twins: tuple[Side, Side]) -> None:
    http_side, service_side = twins
    http_data = HttpMarketData(http_side.client, wait_ms=50)
    service_data = ServiceMarketData(service_side.service, wait_ms=50)
    assert await service_data.cursor() == await http_data.cursor() == 0
    for mint in (SOL.mint, BONK.mint, "11111111111111111111111111111112"):
        assert await service_data.pools_of(mint) == await http_data.pools_of(mint)
    for amount in (10**8, 3 * 10**8):  # each fill changes a pool: an update
        await _trade(http_side, amount)
        await _trade(service_side, amount)
    assert await service_data.cursor() == await http_data.cursor() > 0

    async def first(data: MarketData, after: int, n: int) -> list[MarketUpdate]:
        got = []
        async for update in data.updates(after):
            got.append(update)
            if len(got) == n:
                return got
        return got

    last = await http_data.cursor()
    assert await first(service_data, 0, last) == await first(http_data, 0, last)
    assert await first(service_data, last - 1, 1) == await first(http_data, last - 1, 1)

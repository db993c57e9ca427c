"""Venue adapters over an in-process market sandbox (the embedded mode and tests).

:class:`SandboxVenue` and :class:`SandboxGateway` talk to the market itself.
:class:`ServiceVenue`, :class:`ServiceGateway` and :class:`ServiceMarketData` talk to a
sandbox *service* in this process and behave as the HTTP adapters do against ``eterna
sandbox`` (faults, errors and their messages), without the HTTP request and the JSON on both
sides.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence

from eterna.adapters.sandbox.genesis import VENUE_KINDS
from eterna.adapters.sandbox.market import MarketSandbox, Pool
from eterna.adapters.sandbox.service import SandboxService
from eterna.domain.errors import VenueError, VenueUnavailableError
from eterna.domain.tokens import Token
from eterna.domain.triggers import MarketUpdate, PoolState
from eterna.routing.venues import PoolQuote, SwapRequest, Transaction, TxStatus, VenueInfo


class SandboxVenue:
    """One venue of the sandbox, quoting its own pools."""

    def __init__(self, market: MarketSandbox, name: str) -> None:
        self._market = market
        self._name = name

    @property
    def name(self) -> str:
        """Return the venue name."""
        return self._name

    async def info(self) -> VenueInfo:
        """Describe the venue."""
        return VenueInfo(
            name=self._name,
            kind=VENUE_KINDS.get(self._name, "amm"),
            pool_count=len(self._market.pools(self._name)),
        )

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair."""
        return await self.quote_amounts(token_in, token_out, (amount_in,))

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair at each amount."""
        quotes = []
        for pool in self._market.pools(self._name):
            if pool.direction(token_in.mint, token_out.mint) is None:
                continue
            answers = self._market.quote_amounts(pool.address, token_in.mint, amounts)
            for answer in answers:
                if answer is None:
                    continue
                result, impact = answer
                quotes.append(
                    PoolQuote(
                        venue=self._name,
                        pool=pool.address,
                        token_in=token_in,
                        token_out=token_out,
                        amount_in=result.amount_in,
                        amount_out=result.amount_out,
                        fee=result.fee,
                        price_impact_bps=impact,
                    )
                )
        return quotes


class SandboxGateway:
    """The chain side of the sandbox: build, send and track transactions."""

    def __init__(self, market: MarketSandbox) -> None:
        self._market = market

    async def build(self, request: SwapRequest) -> Transaction:
        """Build and sign a transaction with a fresh blockhash."""
        return self._market.build(request)

    async def send(self, tx: Transaction) -> None:
        """Broadcast the transaction (it lands at once in the in-process sandbox)."""
        self._market.send(tx)

    async def status(self, tx: Transaction) -> TxStatus:
        """Return the transaction's status."""
        return self._market.status(tx)


# -- in-process adapters with the HTTP API's behaviour -----------------------------------


def _bad_request(method: str, path: str, message: str) -> VenueError:
    """Return the error the HTTP adapters raise on the sandbox's 400 answer for message."""
    body = json.dumps({"error": message}, ensure_ascii=False, separators=(",", ":"))
    return VenueError(f"{method} {path}: HTTP 400 {body[:200]}")


class _ServiceCalls:
    """One sandbox RPC as ``eterna sandbox`` serves it: faults first, errors as the API's.

    The HTTP adapters see an injected fault as a 503 and bad input as a 400; these
    adapters raise what the HTTP adapters raise then, with the same messages.
    """

    def __init__(self, service: SandboxService) -> None:
        self.service = service

    @contextlib.asynccontextmanager
    async def rpc(self, method: str, path: str) -> AsyncIterator[None]:
        try:
            await self.service.rpc()
            yield
        except VenueUnavailableError:
            raise VenueUnavailableError(f"{method} {path}: HTTP 503") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise _bad_request(method, path, f"{type(exc).__name__}: {exc}") from None


class ServiceVenue:
    """One venue of an in-process sandbox service, answering as its HTTP API does.

    The same quotes, faults and errors as :class:`~eterna.adapters.venues.http.HttpVenue` over
    ``eterna sandbox``'s app, without an HTTP request and JSON on each side.
    """

    def __init__(self, service: SandboxService, name: str) -> None:
        self._calls = _ServiceCalls(service)
        self._venue = SandboxVenue(service.market, name)

    @property
    def name(self) -> str:
        """Return the venue name."""
        return self._venue.name

    async def info(self) -> VenueInfo:
        """Describe the venue (no faults, as ``GET /venues``)."""
        return await self._venue.info()

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair."""
        return await self.quote_amounts(token_in, token_out, (amount_in,))

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair at each amount, as one RPC."""
        path = f"/venues/{self.name}/quote"
        async with self._calls.rpc("POST", path):
            if not amounts or any(a <= 0 for a in amounts):
                raise _bad_request("POST", path, "amounts must be positive")
            return await self._venue.quote_amounts(token_in, token_out, amounts)


class ServiceGateway:
    """Build, send and track transactions on an in-process sandbox service.

    The same answers, faults and errors as :class:`~eterna.adapters.venues.http.HttpGateway` over
    ``eterna sandbox``'s app.
    """

    def __init__(self, service: SandboxService) -> None:
        self._calls = _ServiceCalls(service)

    async def build(self, request: SwapRequest) -> Transaction:
        """Build and sign a transaction with a fresh blockhash."""
        async with self._calls.rpc("POST", "/tx/build"):
            return self._calls.service.build(request)

    async def send(self, tx: Transaction) -> None:
        """Broadcast the transaction."""
        async with self._calls.rpc("POST", "/tx/send"):
            self._calls.service.send(tx)

    async def status(self, tx: Transaction) -> TxStatus:
        """Ask whether the transaction landed."""
        async with self._calls.rpc("POST", "/tx/status"):
            return self._calls.service.status(tx)


def pool_state_of(pool: Pool) -> PoolState:
    """Return what the market data shows of a pool (as ``pool_state`` reads ``/pools``)."""
    return PoolState(
        venue=pool.venue,
        address=pool.address,
        token_a=pool.token_a,
        token_b=pool.token_b,
        reserve_a=pool.math.reserve_a,
        reserve_b=pool.math.reserve_b,
        price=pool.math.spot_price(a_to_b=True),
    )


class ServiceMarketData:
    """Pools and pool updates of an in-process sandbox service (the watcher's feed).

    The same answers as :class:`~.http.HttpMarketData` over ``eterna sandbox``'s
    ``/pools`` and ``/updates`` (which inject no faults either).
    """

    def __init__(self, service: SandboxService, *, wait_ms: int = 10_000) -> None:
        self._service = service
        self._wait_seconds = wait_ms / 1000

    async def pools_of(self, mint: str) -> list[PoolState]:
        """Return every pool trading the mint."""
        return [
            pool_state_of(p)
            for p in self._service.market.pools()
            if mint in (p.token_a.mint, p.token_b.mint)
        ]

    async def cursor(self) -> int:
        """Return the seq of the latest update."""
        return self._service.last_update

    async def updates(self, after: int) -> AsyncIterator[MarketUpdate]:
        """Yield every update after seq ``after``, forever, waiting for new ones."""
        while True:
            for update in await self._service.updates_after(after, self._wait_seconds):
                after = max(after, update.seq)
                yield MarketUpdate(update.seq, update.kind, pool_state_of(update.pool))
            after = min(after, self._service.last_update)

"""Venue adapters that talk to the sandbox (or any service with its API) over HTTP.

One ``httpx.AsyncClient`` per process is passed in. Every library error is translated at this
boundary: timeouts, refused connections and 5xx answers become ``VenueUnavailableError``
(transient); a 4xx answer is a bug on our side and becomes ``VenueError``. Nothing from httpx
leaks into the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from fractions import Fraction
from typing import Any

import httpx

from eterna.domain.errors import VenueError, VenueUnavailableError
from eterna.domain.failures import FailureKind
from eterna.domain.tokens import Token
from eterna.domain.triggers import MarketUpdate, PoolState
from eterna.routing.venues import (
    PoolQuote,
    SwapRequest,
    Transaction,
    TxState,
    TxStatus,
    VenueInfo,
)

log = logging.getLogger(__name__)

# Paths are a handful of endpoints (one quote path per venue); the cap only guards misuse.
MAX_CACHED_URLS = 256


class SandboxClient:
    """JSON over HTTP to the sandbox, with errors mapped to the engine's."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._urls: dict[str, httpx.URL] = {}

    def _url(self, path: str) -> httpx.URL:
        """Return the absolute URL of path, merged with the base URL once per path.

        The merge is httpx's own (``AsyncClient._merge_url``); an absolute URL passes
        through the client untouched, which spares it parsing the same path every call.
        """
        url = self._urls.get(path)
        if url is None:
            merge = httpx.URL(path)
            if merge.is_relative_url:
                base = self._http.base_url
                merge = base.copy_with(raw_path=base.raw_path + merge.raw_path.lstrip(b"/"))
            if len(self._urls) < MAX_CACHED_URLS:
                self._urls[path] = merge
            url = merge
        return url

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        timeout_seconds: float | None = None,
    ) -> Any:
        """Send one request and return its JSON answer.

        :raises VenueUnavailableError: on a timeout, a connection failure or a 5xx answer.
        :raises VenueError: on a 4xx answer.
        """
        try:
            response = await self._http.request(
                method,
                self._url(path),
                json=body,
                params=params,
                timeout=(
                    timeout_seconds if timeout_seconds is not None else httpx.USE_CLIENT_DEFAULT
                ),
            )
        except httpx.TransportError as exc:
            raise VenueUnavailableError(f"{method} {path}: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise VenueUnavailableError(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise VenueError(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()


class HttpVenue:
    """One venue of the sandbox, quoted over HTTP."""

    def __init__(self, client: SandboxClient, name: str, kind: str = "amm") -> None:
        self._client = client
        self._name = name
        self._kind = kind

    @property
    def name(self) -> str:
        """Return the venue name."""
        return self._name

    async def info(self) -> VenueInfo:
        """Describe the venue."""
        for venue in await self._client.call("GET", "/venues"):
            if venue["name"] == self._name:
                return VenueInfo(self._name, venue["kind"], int(venue["poolCount"]))
        return VenueInfo(self._name, self._kind, 0)

    async def quote(self, token_in: Token, token_out: Token, amount_in: int) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair."""
        return await self.quote_amounts(token_in, token_out, (amount_in,))

    async def quote_amounts(
        self, token_in: Token, token_out: Token, amounts: Sequence[int]
    ) -> list[PoolQuote]:
        """Quote every pool of this venue for the pair at each amount, in one request."""
        answer = await self._client.call(
            "POST",
            f"/venues/{self._name}/quote",
            body={
                "mintIn": token_in.mint,
                "mintOut": token_out.mint,
                "amounts": [str(a) for a in amounts],
            },
        )
        return [
            PoolQuote(
                venue=self._name,
                pool=q["pool"],
                token_in=token_in,
                token_out=token_out,
                amount_in=int(q["consumed"]),
                amount_out=int(q["amountOut"]),
                fee=int(q["fee"]),
                price_impact_bps=int(q["priceImpactBps"]),
            )
            for q in answer["quotes"]
        ]


def _status(data: dict[str, Any]) -> TxStatus:
    amount = data.get("amountOut")
    return TxStatus(
        state=TxState(data["state"]),
        slot=data.get("slot"),
        amount_out=None if amount is None else int(amount),
        error=data.get("error"),
        failure=None if data.get("failure") is None else FailureKind(data["failure"]),
    )


class HttpGateway:
    """Build, send and track transactions through the sandbox's RPC."""

    def __init__(self, client: SandboxClient) -> None:
        self._client = client

    async def build(self, request: SwapRequest) -> Transaction:
        """Build and sign a transaction with a fresh blockhash."""
        body = {
            "memo": request.memo,
            "payer": request.payer,
            "mintIn": request.mint_in,
            "mintOut": request.mint_out,
            "swaps": [s.to_json() for s in request.swaps],
            "minAmountOut": str(request.min_amount_out),
        }
        return Transaction.from_json(await self._client.call("POST", "/tx/build", body=body))

    async def send(self, tx: Transaction) -> None:
        """Broadcast the transaction."""
        await self._client.call("POST", "/tx/send", body=tx.to_json())

    async def status(self, tx: Transaction) -> TxStatus:
        """Ask whether the transaction landed."""
        return _status(await self._client.call("POST", "/tx/status", body=tx.to_json()))


async def venues_of(client: SandboxClient) -> list[HttpVenue]:
    """Return an adapter for every venue the sandbox lists."""
    return [HttpVenue(client, v["name"], v["kind"]) for v in await client.call("GET", "/venues")]


async def tokens_of(client: SandboxClient) -> list[Token]:
    """Return the tokens the sandbox trades."""
    return [
        Token(t["mint"], t["symbol"], int(t["decimals"]))
        for t in await client.call("GET", "/tokens")
    ]


async def pool_updates(
    client: SandboxClient, *, after: int = 0, wait_ms: int = 10_000
) -> AsyncIterator[dict[str, Any]]:
    """Yield pool updates forever (long poll), resuming after the last seq seen."""
    while True:
        try:
            answer = await client.call(
                "GET",
                "/updates",
                params={"after": str(after), "waitMs": str(wait_ms)},
                timeout_seconds=wait_ms / 1000 + 10,
            )
        except VenueError as exc:
            log.warning("market updates unavailable (%s); retrying", exc)
            await asyncio.sleep(1)
            continue
        for update in answer["updates"]:
            after = max(after, int(update["seq"]))
            yield update
        # A sandbox that restarted numbers its updates from 0 again.
        after = min(after, int(answer["last"]))


def _token(data: dict[str, Any]) -> Token:
    return Token(data["mint"], data.get("symbol"), int(data["decimals"]))


def pool_state(data: dict[str, Any]) -> PoolState:
    """Read a pool from its JSON form (``/pools``, ``/updates``)."""
    return PoolState(
        venue=data["venue"],
        address=data["address"],
        token_a=_token(data["tokenA"]),
        token_b=_token(data["tokenB"]),
        reserve_a=int(data["reserveA"]),
        reserve_b=int(data["reserveB"]),
        price=Fraction(data["price"]) if data.get("price") else None,
    )


class HttpMarketData:
    """Pools and the stream of pool updates of the sandbox, over HTTP (the watcher's feed)."""

    def __init__(self, client: SandboxClient, *, wait_ms: int = 10_000) -> None:
        self._client = client
        self._wait_ms = wait_ms

    async def pools_of(self, mint: str) -> list[PoolState]:
        """Return every pool trading the mint."""
        answer = await self._client.call("GET", "/pools", params={"mint": mint})
        return [pool_state(p) for p in answer]

    async def cursor(self) -> int:
        """Return the seq of the latest update."""
        return int((await self._client.call("GET", "/updates/last"))["last"])

    async def updates(self, after: int) -> AsyncIterator[MarketUpdate]:
        """Yield every update after seq ``after``, forever (long poll)."""
        async for update in pool_updates(self._client, after=after, wait_ms=self._wait_ms):
            yield MarketUpdate(int(update["seq"]), update["kind"], pool_state(update["pool"]))

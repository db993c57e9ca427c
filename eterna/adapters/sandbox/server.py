"""Composition root of ``eterna sandbox``: the market sandbox over HTTP.

Endpoints (JSON; integers in base units are strings):
- ``GET /health``, ``GET /venues``, ``GET /tokens``, ``GET /pools[?venue=&mint=]``
- ``POST /venues/{venue}/quote`` ``{mintIn, mintOut, amounts: [...]}`` -> every pool's quotes
- ``POST /tx/build`` a swap request -> a signed transaction
- ``POST /tx/send`` and ``POST /tx/status`` a transaction -> its status
- ``GET /ledger?memo=`` landed transactions (the memo carries the order id)
- ``GET /updates?after=N&waitMs=M`` pool updates after N (long poll); ``GET /updates/last``
  the seq of the latest one
- ``GET|POST /admin/faults`` fault injection; ``POST /admin/move-price`` move a pool's price
- ``POST /admin/launch`` ``{symbol, decimals, quote, price, liquidity, venue?, mint?}`` launch
  a pool for a token (new unless ``mint`` names a known one) against a well-known quote
  token: ``price`` in quote per token, ``liquidity`` in quote units (decimal strings)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as HttpRoute

from eterna.adapters.sandbox.genesis import VENUE_KINDS
from eterna.adapters.sandbox.market import LandedTransaction
from eterna.adapters.sandbox.service import SandboxService, pool_json
from eterna.amm.base import InsufficientLiquidityError
from eterna.domain.errors import VenueUnavailableError
from eterna.routing.venues import SwapInstruction, SwapRequest, Transaction, TxStatus

Handler = Callable[[Request], Awaitable[Response]]


def status_json(status: TxStatus) -> dict[str, Any]:
    """Return the JSON form of a transaction status."""
    return {
        "state": status.state.value,
        "slot": status.slot,
        "amountOut": None if status.amount_out is None else str(status.amount_out),
        "error": status.error,
        "failure": None if status.failure is None else status.failure.value,
    }


def request_from_json(data: dict[str, Any]) -> SwapRequest:
    """Rebuild a swap request from its JSON form."""
    return SwapRequest(
        memo=data["memo"],
        payer=data["payer"],
        mint_in=data["mintIn"],
        mint_out=data["mintOut"],
        swaps=tuple(SwapInstruction.from_json(s) for s in data["swaps"]),
        min_amount_out=int(data["minAmountOut"]),
    )


def request_to_json(request: SwapRequest) -> dict[str, Any]:
    """Return the JSON form of a swap request."""
    return {
        "memo": request.memo,
        "payer": request.payer,
        "mintIn": request.mint_in,
        "mintOut": request.mint_out,
        "swaps": [s.to_json() for s in request.swaps],
        "minAmountOut": str(request.min_amount_out),
    }


def ledger_json(row: LandedTransaction) -> dict[str, Any]:
    """Return the JSON form of a ledger row."""
    return {
        "signature": row.signature,
        "slot": row.slot,
        "memo": row.memo,
        "payer": row.payer,
        "mintIn": row.mint_in,
        "mintOut": row.mint_out,
        "amountIn": str(row.amount_in),
        "amountOut": str(row.amount_out),
        "success": row.success,
        "error": row.error,
        "failure": None if row.failure is None else row.failure.value,
    }


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


class _SandboxApi:
    """The request handlers, bound to one sandbox service."""

    def __init__(self, service: SandboxService) -> None:
        self.service = service
        self.market = service.market

    def rpc(self, handler: Handler) -> Handler:
        """Wrap an RPC handler with the injected faults and input errors as 400."""

        async def wrapped(request: Request) -> Response:
            try:
                await self.service.rpc()
                return await handler(request)
            except VenueUnavailableError as exc:
                return JSONResponse({"error": str(exc)}, status_code=503)
            except (KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
                return _bad_request(f"{type(exc).__name__}: {exc}")

        return wrapped

    async def health(self, _: Request) -> Response:
        return JSONResponse({"status": "ok", "slot": self.market.clock.slot()})

    async def venues(self, _: Request) -> Response:
        return JSONResponse(
            [
                {
                    "name": v,
                    "kind": VENUE_KINDS.get(v, "amm"),
                    "poolCount": len(self.market.pools(v)),
                }
                for v in self.market.venues()
            ]
        )

    async def tokens(self, _: Request) -> Response:
        return JSONResponse(
            [
                {"mint": t.mint, "symbol": t.symbol, "decimals": t.decimals}
                for t in self.market.tokens()
            ]
        )

    async def pools(self, request: Request) -> Response:
        venue = request.query_params.get("venue")
        mint = request.query_params.get("mint")
        return JSONResponse(
            [
                pool_json(p)
                for p in self.market.pools(venue)
                if mint is None or mint in (p.token_a.mint, p.token_b.mint)
            ]
        )

    async def quote(self, request: Request) -> Response:
        venue = request.path_params["venue"]
        body = await request.json()
        mint_in, mint_out = str(body["mintIn"]), str(body["mintOut"])
        amounts = [int(a) for a in body["amounts"]]
        if not amounts or any(a <= 0 for a in amounts):
            return _bad_request("amounts must be positive")
        out = []
        for pool in self.market.pools(venue):
            if pool.direction(mint_in, mint_out) is None:
                continue
            answers = self.market.quote_amounts(pool.address, mint_in, amounts)
            for amount, answer in zip(amounts, answers, strict=True):
                if answer is None:
                    continue
                result, impact = answer
                out.append(
                    {
                        "pool": pool.address,
                        "amountIn": str(amount),
                        "consumed": str(result.amount_in),
                        "amountOut": str(result.amount_out),
                        "fee": str(result.fee),
                        "priceImpactBps": impact,
                    }
                )
        return JSONResponse({"quotes": out})

    async def build(self, request: Request) -> Response:
        tx = self.service.build(request_from_json(await request.json()))
        return JSONResponse(tx.to_json())

    async def send(self, request: Request) -> Response:
        status = self.service.send(Transaction.from_json(await request.json()))
        return JSONResponse(status_json(status))

    async def status(self, request: Request) -> Response:
        tx = Transaction.from_json(await request.json())
        return JSONResponse(status_json(self.service.status(tx)))

    async def ledger(self, request: Request) -> Response:
        memo = request.query_params.get("memo")
        return JSONResponse([ledger_json(r) for r in self.market.ledger(memo)])

    async def updates(self, request: Request) -> Response:
        try:
            after = int(request.query_params.get("after", "0"))
            wait_ms = min(int(request.query_params.get("waitMs", "0")), 30_000)
        except ValueError:
            return _bad_request("after and waitMs must be integers")
        poll = asyncio.ensure_future(self.service.updates_after(after, wait_ms / 1000))
        gone = asyncio.ensure_future(_disconnected(request))
        # A client that goes away ends its long poll: uvicorn waits for every running request
        # before it shuts down, and a stopped watcher would otherwise hold it for waitMs.
        await asyncio.wait({poll, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not poll.done():
            poll.cancel()
            return JSONResponse({"updates": [], "last": self.service.last_update})
        return JSONResponse(
            {"updates": [u.to_json() for u in poll.result()], "last": self.service.last_update}
        )

    async def last_update(self, _: Request) -> Response:
        return JSONResponse({"last": self.service.last_update})

    async def faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.service.faults = self.service.faults.merged(await request.json())
            except (ValueError, TypeError) as exc:
                return _bad_request(str(exc))
        return JSONResponse({**self.service.faults.to_json(), "injected": self.service.injected})

    async def move_price(self, request: Request) -> Response:
        body = await request.json()
        try:
            price = self.service.move_price(
                str(body["pool"]),
                int(body["bps"]),
                a_to_b=str(body.get("side", "sellA")) == "sellA",
            )
        except (KeyError, ValueError, InsufficientLiquidityError) as exc:
            return _bad_request(f"{type(exc).__name__}: {exc}")
        return JSONResponse({"price": str(price)})

    async def launch(self, request: Request) -> Response:
        body = await request.json()
        try:
            pool = self.service.launch(
                symbol=None if body.get("symbol") is None else str(body["symbol"]),
                decimals=int(body.get("decimals", 6)),
                quote=str(body.get("quote", "SOL")),
                price=_fraction(body["price"]),
                liquidity=_fraction(body["liquidity"]),
                venue=str(body.get("venue", "raydium")),
                mint=None if body.get("mint") is None else str(body["mint"]),
            )
        except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
            return _bad_request(f"{type(exc).__name__}: {exc}")
        token = pool.token_a
        return JSONResponse(
            {
                "mint": token.mint,
                "symbol": token.symbol,
                "decimals": token.decimals,
                "pool": pool_json(pool),
            }
        )


async def _disconnected(request: Request) -> None:
    """Return once the client of a request without a body has gone away."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _fraction(value: object) -> Fraction:
    """Parse a decimal string exactly; refuse anything that is not a finite number."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return Fraction(number)


def create_sandbox_app(service: SandboxService, *, manage_lifecycle: bool = True) -> Starlette:
    """Return the HTTP app serving the sandbox (it runs the drift ticker when asked to)."""
    api = _SandboxApi(service)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_lifecycle:
            service.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await service.stop()

    return Starlette(
        routes=[
            HttpRoute("/health", api.health),
            HttpRoute("/venues", api.venues),
            HttpRoute("/tokens", api.tokens),
            HttpRoute("/pools", api.pools),
            HttpRoute("/venues/{venue}/quote", api.rpc(api.quote), methods=["POST"]),
            HttpRoute("/tx/build", api.rpc(api.build), methods=["POST"]),
            HttpRoute("/tx/send", api.rpc(api.send), methods=["POST"]),
            HttpRoute("/tx/status", api.rpc(api.status), methods=["POST"]),
            HttpRoute("/ledger", api.ledger),
            HttpRoute("/updates", api.updates),
            HttpRoute("/updates/last", api.last_update),
            HttpRoute("/admin/faults", api.faults, methods=["GET", "POST"]),
            HttpRoute("/admin/move-price", api.move_price, methods=["POST"]),
            HttpRoute("/admin/launch", api.launch, methods=["POST"]),
        ],
        lifespan=lifespan,
    )

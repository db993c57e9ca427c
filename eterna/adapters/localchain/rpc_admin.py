"""The admin endpoints of ``eterna chain``: what a test or an operator does to the market.

JSON in and out (integers in base units are strings, prices decimal strings):

- ``GET|POST /admin/faults`` the fault settings (POST merges the fields given) and the
  count of faults injected, by kind - the sandbox's shape;
- ``POST /admin/launch`` ``{symbol, decimals, quote, price, liquidity, venue?, mint?}``
  launches a token with a real pool (``price`` in quote per token, ``liquidity`` in quote
  units);
- ``POST /admin/move-price`` ``{pool, bps, side: "sellA"|"sellB"}`` lands an adverse swap
  (``{moves: [...]}`` several, back to back);
- ``GET /admin/ledger?memo=`` the transactions the node processed (all, or one memo's);
- ``GET /admin/pools`` the registered pools; ``POST /admin/advance`` ``{slots}`` moves
  manual slots (``slot_ms`` 0).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from solders.pubkey import Pubkey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from eterna.adapters.localchain.faults import FaultSettingsError
from eterna.adapters.localchain.launches import Launch
from eterna.adapters.localchain.ledger import LedgerEntry
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.pools import ChainPool
from eterna.adapters.localchain.results import ChainError
from eterna.adapters.localchain.rpc_wire import tx_error_json

_BAD_INPUT = (KeyError, ValueError, TypeError, InvalidOperation, ChainError)


def _move(body: Any) -> tuple[Pubkey, int, bool]:
    """Read one move: ``{pool, bps, side: "sellA"|"sellB"}``."""
    side = str(body.get("side", "sellA"))
    if side not in ("sellA", "sellB"):
        raise ValueError("side is sellA or sellB")
    return Pubkey.from_string(str(body["pool"])), int(body["bps"]), side == "sellA"


def pool_json(pool: ChainPool) -> dict[str, Any]:
    """Return the public JSON view of a registered pool."""
    return {
        "venue": pool.venue,
        "address": str(pool.address),
        "program": str(pool.program),
        "tokenA": _token_json(pool.token_a.mint, pool.token_a.symbol, pool.token_a.decimals),
        "tokenB": _token_json(pool.token_b.mint, pool.token_b.symbol, pool.token_b.decimals),
        "accounts": [str(a) for a in pool.accounts],
    }


def ledger_json(entry: LedgerEntry) -> dict[str, Any]:
    """Return the JSON view of a ledger entry."""
    return {
        "signature": str(entry.signature),
        "slot": entry.slot,
        "blockTime": entry.block_time,
        "memo": entry.memo,
        "success": entry.ok,
        "err": None if entry.error is None else tx_error_json(entry.error),
        "fee": entry.fee,
        "computeUnits": entry.compute_units,
        "payer": str(entry.account_keys[0]),
    }


def _token_json(mint: str, symbol: str | None, decimals: int) -> dict[str, Any]:
    return {"mint": mint, "symbol": symbol, "decimals": decimals}


def _bad_request(exc: Exception) -> JSONResponse:
    return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)


def _fraction(value: object) -> Fraction:
    """Parse a decimal string exactly; refuse anything that is not a finite number."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return Fraction(number)


class AdminApi:
    """The admin request handlers over one node."""

    def __init__(self, node: LocalNode) -> None:
        self.node = node

    async def faults(self, request: Request) -> Response:
        """Return the fault settings; POST merges the fields given first."""
        plan = self.node.faults
        if request.method == "POST":
            try:
                plan.settings = plan.settings.merged(await request.json())
            except (FaultSettingsError, ValueError, TypeError) as exc:
                return _bad_request(exc)
        return JSONResponse({**plan.settings.to_json(), "injected": plan.injected})

    async def launch(self, request: Request) -> Response:
        """Launch a token with a pool."""
        try:
            body = await request.json()
            pool, token = self.node.launch(
                Launch(
                    symbol=None if body.get("symbol") is None else str(body["symbol"]),
                    decimals=int(body.get("decimals", 6)),
                    quote=str(body.get("quote", "SOL")),
                    price=_fraction(body["price"]),
                    liquidity=_fraction(body["liquidity"]),
                    venue=str(body.get("venue", "raydium")),
                    mint=None if body.get("mint") is None else str(body["mint"]),
                )
            )
        except _BAD_INPUT as exc:
            return _bad_request(exc)
        return JSONResponse(
            {**_token_json(token.mint, token.symbol, token.decimals), "pool": pool_json(pool)}
        )

    async def move_price(self, request: Request) -> Response:
        """Land a swap moving a pool's price, or several back to back (``moves``).

        Several pools moved in one request move together, as arbitrage moves every venue of
        a pair within a slot: their changes reach subscribers in one burst. Every move is
        read before any lands; a pool that cannot move stops the rest, and the answer (400)
        says which (``failed``, its index): the moves before it have landed.
        """
        try:
            body = await request.json()
            many = "moves" in body
            moves = [_move(m) for m in (body["moves"] if many else [body])]
            if not moves:
                raise ValueError("moves is empty")
        except _BAD_INPUT as exc:
            return _bad_request(exc)
        prices: list[Fraction] = []
        for i, (pool, bps, a_to_b) in enumerate(moves):
            try:
                prices.append(self.node.move_price(pool, bps, a_to_b=a_to_b))
            except _BAD_INPUT as exc:
                return JSONResponse(
                    {"error": f"{type(exc).__name__}: {exc}", "failed": i}, status_code=400
                )
        shown = [str(Decimal(p.numerator) / p.denominator) for p in prices]
        return JSONResponse({"prices": shown} if many else {"price": shown[0]})

    async def ledger(self, request: Request) -> Response:
        """Return the processed transactions, or those of one memo."""
        memo = request.query_params.get("memo")
        return JSONResponse([ledger_json(e) for e in self.node.transactions(memo)])

    async def pools(self, _: Request) -> Response:
        """Return the registered pools."""
        return JSONResponse([pool_json(p) for p in self.node.pools()])

    async def advance(self, request: Request) -> Response:
        """Move manual slots forward."""
        try:
            body = await request.json()
            self.node.advance(int(body.get("slots", 1)))
        except _BAD_INPUT as exc:
            return _bad_request(exc)
        return JSONResponse({"slot": self.node.slot, "blockHeight": self.node.block_height})

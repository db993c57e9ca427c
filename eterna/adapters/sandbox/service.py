"""The sandbox as a service: the market, its fault injection, and its stream of updates.

The HTTP server (:mod:`.server`) and the in-process embedded mode both drive this
object, so faults and updates behave the same either way. Faults model what a real RPC does
to a trader: latency, errors (some after the transaction was accepted, so the sender cannot
tell whether it landed), dropped transactions, expired blockhashes, and the price moving
against the order between its quote and its landing.

New tokens launch with a pool (what sniper orders wait for): on demand (:meth:`launch`, the
``POST /admin/launch`` of the HTTP server), and, when ``launch_every_seconds`` is set and
slots run, at random from a generator seeded by the sandbox seed and the launch number.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import deque
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from eterna.adapters.sandbox.genesis import REFERENCE_USD, VENUE_BUILDERS, launch_mint, launch_pool
from eterna.adapters.sandbox.market import MarketSandbox, Pool
from eterna.domain.errors import VenueUnavailableError
from eterna.domain.tokens import SOL, USDC, Token, is_mint_address
from eterna.routing.venues import SwapRequest, Transaction, TxState, TxStatus

UPDATE_LOG_SIZE = 50_000
INJECTED_KINDS = ("rpcErrors", "droppedTransactions", "expiredBlockhashes", "priceMoves")


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """What the sandbox does wrong, and how often (rates are probabilities 0..1)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    expire_rate: float = 0.0
    price_move_rate: float = 0.0
    price_move_bps: int = 100

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "latencyMs": self.latency_ms,
            "errorRate": self.error_rate,
            "dropRate": self.drop_rate,
            "expireRate": self.expire_rate,
            "priceMoveRate": self.price_move_rate,
            "priceMoveBps": self.price_move_bps,
        }

    def merged(self, data: dict[str, Any]) -> FaultSettings:
        """Return these settings with the JSON fields given replaced (unknown keys refused)."""
        names = {
            "latencyMs": "latency_ms",
            "errorRate": "error_rate",
            "dropRate": "drop_rate",
            "expireRate": "expire_rate",
            "priceMoveRate": "price_move_rate",
            "priceMoveBps": "price_move_bps",
        }
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        changes: dict[str, Any] = {}
        for key, value in data.items():
            field = names[key]
            if field.endswith("_rate"):
                rate = float(value)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"{key} must be within 0..1")
                changes[field] = rate
            else:
                number = int(value)
                if number < 0:
                    raise ValueError(f"{key} must be >= 0")
                changes[field] = number
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class PoolUpdate:
    """A pool that changed or appeared, numbered in the order the sandbox saw it."""

    seq: int
    kind: str  # "created" or "changed"
    pool: Pool

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"seq": self.seq, "kind": self.kind, "pool": pool_json(self.pool)}


def pool_json(pool: Pool) -> dict[str, Any]:
    """Return the public JSON view of a pool."""
    return {
        "venue": pool.venue,
        "address": pool.address,
        "tokenA": {
            "mint": pool.token_a.mint,
            "symbol": pool.token_a.symbol,
            "decimals": pool.token_a.decimals,
        },
        "tokenB": {
            "mint": pool.token_b.mint,
            "symbol": pool.token_b.symbol,
            "decimals": pool.token_b.decimals,
        },
        "reserveA": str(pool.math.reserve_a),
        "reserveB": str(pool.math.reserve_b),
        "price": str(pool.math.spot_price(a_to_b=True)),
    }


class SandboxService:
    """The market behind a fault layer, with a numbered log of pool updates."""

    def __init__(
        self,
        market: MarketSandbox,
        faults: FaultSettings | None = None,
        *,
        seed: int = 0,
        launch_every_seconds: float = 0.0,
    ) -> None:
        self.market = market
        self.faults = faults or FaultSettings()
        # How many faults were injected so far, by kind (GET /admin/faults reports them).
        self.injected: dict[str, int] = dict.fromkeys(INJECTED_KINDS, 0)
        self._seed = seed
        self._launch_every = launch_every_seconds
        self._launches = 0
        self._next_launch = time.monotonic() + launch_every_seconds
        self._rng = random.Random(seed)
        self._updates: deque[PoolUpdate] = deque(maxlen=UPDATE_LOG_SIZE)
        self._seq = 0
        self._known = {p.address for p in market.pools()}
        self._changed = asyncio.Event()
        self._ticker: asyncio.Task[None] | None = None
        self._expired: set[str] = set()
        market.on_pool_change(self._record)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Let prices drift every slot in the background (no-op when slots are frozen)."""
        if self.market.clock.slot_ms > 0 and self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="sandbox-ticker")

    async def stop(self) -> None:
        """Stop the background drift."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.market.clock.slot_ms / 1000)
            self.market.pools()  # applies the drift of the slots that passed
            if self._launch_every > 0 and time.monotonic() >= self._next_launch:
                self._next_launch += self._launch_every
                self.launch_random()

    # -- faults ------------------------------------------------------------------------

    async def rpc(self) -> None:
        """Apply the latency and error faults of one RPC call."""
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if self._chance(self.faults.error_rate):
            self.injected["rpcErrors"] += 1
            raise VenueUnavailableError("injected RPC error")

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def build(self, request: SwapRequest) -> Transaction:
        """Build a transaction; an injected expiry hands out a blockhash that is already stale."""
        tx = self.market.build(request)
        if self._chance(self.faults.expire_rate):
            self.injected["expiredBlockhashes"] += 1
            self._expired.add(tx.signature)
        return tx

    def send(self, tx: Transaction) -> TxStatus:
        """Send a transaction through the faults: it may be dropped, expire, or meet a move.

        :raises VenueUnavailableError: an injected error after the transaction was accepted.
        """
        if tx.signature in self._expired:
            return TxStatus(TxState.EXPIRED)
        if self._chance(self.faults.drop_rate):
            self.injected["droppedTransactions"] += 1
            return TxStatus(TxState.UNKNOWN)  # accepted, then lost on the way to the leader
        if self._chance(self.faults.price_move_rate):
            self.injected["priceMoves"] += 1
            self._move_against(tx)
        status = self.market.send(tx)
        if self._chance(self.faults.error_rate / 2):
            self.injected["rpcErrors"] += 1
            raise VenueUnavailableError("injected RPC error after the transaction was accepted")
        return status

    def status(self, tx: Transaction) -> TxStatus:
        """Return the transaction's status (an injected expiry is final)."""
        if tx.signature in self._expired and self.market.status(tx).state is TxState.UNKNOWN:
            return TxStatus(TxState.EXPIRED)
        return self.market.status(tx)

    def _move_against(self, tx: Transaction) -> None:
        swap = tx.swaps[0] if tx.swaps else None
        if swap is None:
            return
        try:
            pool = self.market.pool(swap.pool)
        except KeyError:
            return
        a_to_b = pool.direction(swap.mint_in, swap.mint_out)
        if a_to_b is not None:
            self.move_price(pool.address, self.faults.price_move_bps, a_to_b=a_to_b)

    # -- market control ----------------------------------------------------------------

    def move_price(self, address: str, bps: int, *, a_to_b: bool) -> Fraction:
        """Trade through a pool in one direction until its price moved about bps; return it.

        Selling A (a_to_b) lowers the price of A in B; the other way raises it.
        """
        pool = self.market.pool(address)
        start = pool.math.spot_price(a_to_b=True)
        target = start * (
            Fraction(10_000 - bps, 10_000) if a_to_b else Fraction(10_000 + bps, 10_000)
        )
        reserve = pool.math.reserve_a if a_to_b else pool.math.reserve_b
        step = max(1, reserve // 1000)
        for _ in range(10_000):
            price = pool.math.spot_price(a_to_b=True)
            if (a_to_b and price <= target) or (not a_to_b and price >= target):
                break
            _, after = pool.math.swap(step, a_to_b=a_to_b, now=0)
            pool = replace(pool, math=after)
        self.market.set_pool(pool)
        return pool.math.spot_price(a_to_b=True)

    def launch(
        self,
        *,
        symbol: str | None,
        decimals: int,
        quote: str,
        price: Fraction,
        liquidity: Fraction,
        venue: str = "raydium",
        mint: str | None = None,
    ) -> Pool:
        """Launch a pool for a token against a well-known quote token; return the pool.

        The token is new unless ``mint`` names one that trades already (then its symbol and
        decimals stay as they are). A new token's mint is ``mint`` or derived from the seed.

        :raises ValueError: for a bad mint, symbol, decimals, venue, quote token, price or
            liquidity, or a pool that exists already.
        """
        tokens = {t.mint: t for t in self.market.tokens()}
        by_symbol = {(t.symbol or "").upper(): t for t in tokens.values()}
        quote_token = tokens.get(quote) or by_symbol.get(quote.upper())
        if quote_token is None:
            raise ValueError(f"unknown quote token {quote!r}")
        if mint is not None and not is_mint_address(mint):
            raise ValueError("mint must be a base58 32-byte address")
        token = tokens.get(mint or "")
        if token is None:
            if not 0 <= decimals <= 12:
                raise ValueError("decimals must be within 0..12")
            if symbol is not None and not (symbol.isascii() and 0 < len(symbol) <= 16):
                raise ValueError("symbol must be 1-16 ASCII characters")
            self._launches += 1
            mint = mint or launch_mint(self._seed, self._launches, symbol or "")
            token = Token(mint, symbol, decimals)
        pool = launch_pool(self._seed, venue, token, quote_token, price=price, liquidity=liquidity)
        if pool.address in self._known:
            raise ValueError(f"{venue} already has a pool {pool.address} for this pair")
        self.market.set_pool(pool)
        return pool

    def launch_random(self) -> Pool:
        """Launch a token with seeded random traits (symbol NEW<n>, price, liquidity, venue)."""
        rng = random.Random(f"{self._seed}/launch/{self._launches + 1}")
        quote = rng.choice((SOL, USDC))
        usd = Fraction(rng.randint(1, 10_000), 100_000)  # 0.00001 .. 0.1 USD
        in_quote = REFERENCE_USD[quote]
        return self.launch(
            symbol=f"NEW{self._launches + 1}",
            decimals=rng.choice((6, 9)),
            quote=quote.mint,
            price=usd / in_quote,
            liquidity=Fraction(rng.randint(5_000, 500_000)) / in_quote,
            venue=rng.choice(sorted(VENUE_BUILDERS)),
        )

    # -- updates -----------------------------------------------------------------------

    def _record(self, pool: Pool) -> None:
        kind = "changed" if pool.address in self._known else "created"
        self._known.add(pool.address)
        self._seq += 1
        self._updates.append(PoolUpdate(self._seq, kind, pool))
        self._changed.set()

    @property
    def last_update(self) -> int:
        """Return the seq of the latest update."""
        return self._seq

    async def updates_after(self, after: int, wait_seconds: float) -> list[PoolUpdate]:
        """Return updates with seq > after, waiting up to wait_seconds for one to arrive."""
        if self._seq <= after and wait_seconds > 0:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait_seconds)
        # The log holds consecutive seqs ending at self._seq: take the newest ones from the
        # right, without copying the whole log.
        count = min(max(self._seq - after, 0), len(self._updates))
        newest = list(itertools.islice(reversed(self._updates), count))
        newest.reverse()
        return newest

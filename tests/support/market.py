"""Pools of Eterna's own AMM math with slots, blockhashes and a ledger: a test fixture.

The market Eterna trades is the chain; the router's unit and property tests use this model
of it, which quotes and settles with :mod:`eterna.amm` alone, in microseconds.

Invariants:
- A transaction's signature is a hash of its content, so sending it twice lands it once.
- A transaction lands atomically: its swaps settle in order against the pool state at landing
  time (a later swap through the same pool sees the earlier one); a swap without an amount
  spends all of its input token that earlier swaps paid out and none spent (for a two-hop:
  exactly the first swap's output). The whole transaction fails, recorded as failed and
  with no pool changed, if any pool lacks liquidity, if it spends more of an intermediate
  token than earlier swaps paid, or if the output is below its ``minAmountOut`` - the way
  the on-chain program fails with ``SlippageToleranceExceeded``.
- A transaction whose blockhash is older than 150 slots can no longer land.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from eterna.amm.base import InsufficientLiquidityError, PoolMath, SwapResult, price_impact_bps
from eterna.domain.failures import FailureKind
from eterna.domain.tokens import SOL, Token, b58encode
from eterna.routing.venues import SwapRequest, Transaction, TxState, TxStatus

BLOCKHASH_VALID_SLOTS = 150


@dataclass(frozen=True, slots=True)
class Pool:
    """A pool on a venue: its address, its two tokens and its math state."""

    venue: str
    address: str
    token_a: Token
    token_b: Token
    math: PoolMath

    def direction(self, mint_in: str, mint_out: str) -> bool | None:
        """Return a_to_b for the pair, or None when the pool does not trade it."""
        if (mint_in, mint_out) == (self.token_a.mint, self.token_b.mint):
            return True
        if (mint_in, mint_out) == (self.token_b.mint, self.token_a.mint):
            return False
        return None


@dataclass(frozen=True, slots=True)
class LandedTransaction:
    """A ledger row: a transaction that landed, successfully or not."""

    signature: str
    slot: int
    memo: str
    payer: str
    mint_in: str
    mint_out: str
    amount_in: int
    amount_out: int
    success: bool
    error: str | None
    failure: FailureKind | None = None


@dataclass
class ModelClock:
    """Slots derived from wall time, or advanced by hand when slot_ms is 0."""

    slot_ms: int
    genesis_slot: int = 300_000_000
    _manual: int = 0
    _t0: float = field(default_factory=time.monotonic)

    def slot(self) -> int:
        """Return the current slot."""
        if self.slot_ms <= 0:
            return self.genesis_slot + self._manual
        return self.genesis_slot + int((time.monotonic() - self._t0) * 1000) // self.slot_ms

    def advance(self, slots: int = 1) -> None:
        """Advance a manual clock (no effect on a wall-clock one)."""
        self._manual += slots


def _hash58(*parts: str, size: int = 32) -> str:
    digest = hashlib.sha512("\x1f".join(parts).encode()).digest()
    return b58encode(digest[:size])


def _failed(message: str) -> tuple[FailureKind, str]:
    """Return the failure of a transaction that landed and failed, not on price."""
    return FailureKind.TRANSACTION_FAILED, message


def impact_bps(spot: Fraction, result: SwapResult) -> int:
    """Return :func:`~eterna.amm.base.price_impact_bps` for a spot price computed once.

    The same definition (shortfall of the output below ``net input x spot``, rounded up) in
    integers, so a ladder of quotes on one pool state costs one spot price, not one each.
    """
    net_in = result.amount_in - result.fee
    spot_out = net_in * spot.numerator  # over spot.denominator
    if spot_out <= 0:
        return 0
    shortfall = spot_out - result.amount_out * spot.denominator
    return max(0, -(-shortfall * 10_000 // spot_out))


def pool_address(seed: int, venue: str, token_a: Token, token_b: Token) -> str:
    """Derive a stable 32-byte pool address from the seed, venue and pair."""
    return _hash58("pool", str(seed), venue, token_a.mint, token_b.mint)


class ModelMarket:
    """A simulated chain with DEX pools; all amounts are integer base units."""

    def __init__(self, pools: Iterable[Pool], *, seed: int, clock: ModelClock) -> None:
        self.seed = seed
        self.clock = clock
        self._pools: dict[str, Pool] = {p.address: p for p in pools}
        self._ledger: list[LandedTransaction] = []
        self._by_signature: dict[str, LandedTransaction] = {}
        self._rng = random.Random(seed)
        self._drift_slot = clock.slot()
        self._listeners: list[Callable[[Pool], None]] = []

    # -- pools -------------------------------------------------------------------------

    def pools(self, venue: str | None = None) -> list[Pool]:
        """Return the pools, optionally of one venue."""
        self._drift()
        return [p for p in self._pools.values() if venue is None or p.venue == venue]

    def pool(self, address: str) -> Pool:
        """Return one pool by address (KeyError when unknown)."""
        self._drift()
        return self._pools[address]

    def venues(self) -> list[str]:
        """Return the venue names, sorted."""
        return sorted({p.venue for p in self._pools.values()})

    def tokens(self) -> list[Token]:
        """Return every token that some pool trades."""
        seen: dict[str, Token] = {}
        for p in self._pools.values():
            seen.setdefault(p.token_a.mint, p.token_a)
            seen.setdefault(p.token_b.mint, p.token_b)
        return list(seen.values())

    def quote(self, address: str, mint_in: str, amount_in: int) -> tuple[SwapResult, int]:
        """Quote a swap on the current state; return the result and its price impact in bps."""
        pool = self.pool(address)
        a_to_b = pool.token_a.mint == mint_in
        result, _ = pool.math.swap(amount_in, a_to_b=a_to_b, now=self._now())
        return result, price_impact_bps(pool.math, result, a_to_b=a_to_b)

    def quote_amounts(
        self, address: str, mint_in: str, amounts: Sequence[int]
    ) -> list[tuple[SwapResult, int] | None]:
        """Quote several amounts on one state of the pool; None where it cannot fill one."""
        pool = self.pool(address)
        a_to_b = pool.token_a.mint == mint_in
        now = self._now()
        spot = pool.math.spot_price(a_to_b=a_to_b)
        results = pool.math.quote_amounts(amounts, a_to_b=a_to_b, now=now)
        return [None if r is None else (r, impact_bps(spot, r)) for r in results]

    def set_pool(self, pool: Pool) -> None:
        """Add or replace a pool (tests, launches and drift use this)."""
        self._pools[pool.address] = pool
        for listener in self._listeners:
            listener(pool)

    def on_pool_change(self, listener: Callable[[Pool], None]) -> None:
        """Call listener with every pool that changes."""
        self._listeners.append(listener)

    # -- transactions ------------------------------------------------------------------

    def latest_blockhash(self) -> tuple[str, int]:
        """Return the current blockhash and the last slot at which it is still valid."""
        slot = self.clock.slot()
        return _hash58("blockhash", str(self.seed), str(slot)), slot + BLOCKHASH_VALID_SLOTS

    def build(self, request: SwapRequest) -> Transaction:
        """Build and sign a transaction for the request with a fresh blockhash."""
        blockhash, last_valid = self.latest_blockhash()
        body = {
            "memo": request.memo,
            "payer": request.payer,
            "swaps": [s.to_json() for s in request.swaps],
            "minAmountOut": str(request.min_amount_out),
            "blockhash": blockhash,
        }
        signature = _hash58("sig", json.dumps(body, sort_keys=True), size=64)
        return Transaction(
            signature=signature,
            memo=request.memo,
            payer=request.payer,
            mint_in=request.mint_in,
            mint_out=request.mint_out,
            swaps=request.swaps,
            min_amount_out=request.min_amount_out,
            recent_blockhash=blockhash,
            last_valid_slot=last_valid,
            # Native SOL is wrapped into wSOL before the swap and unwrapped after it.
            wrap_sol=request.mint_in == SOL.mint,
            unwrap_sol=request.mint_out == SOL.mint,
        )

    def send(self, tx: Transaction) -> TxStatus:
        """Land the transaction now unless it already landed or its blockhash expired."""
        landed = self._by_signature.get(tx.signature)
        if landed is not None:
            return self._status_of(landed)
        slot = self.clock.slot()
        if slot > tx.last_valid_slot:
            return TxStatus(TxState.EXPIRED)
        self._drift()
        staged, deltas, failed = self._settle(tx)
        total_out = deltas.get(tx.mint_out, 0)
        if failed is None and total_out < tx.min_amount_out:
            failed = (FailureKind.SLIPPAGE, "SlippageToleranceExceeded")
        failure, error = failed if failed is not None else (None, None)
        # What the payer signed to spend, whether or not every swap got to run.
        amount_in = sum(s.amount_in or 0 for s in tx.swaps if s.mint_in == tx.mint_in)
        record = LandedTransaction(
            signature=tx.signature,
            slot=slot,
            memo=tx.memo,
            payer=tx.payer,
            mint_in=tx.mint_in,
            mint_out=tx.mint_out,
            amount_in=amount_in,
            amount_out=total_out if error is None else 0,
            success=error is None,
            error=error,
            failure=failure,
        )
        if error is None:
            for pool in staged.values():
                self.set_pool(pool)
        self._ledger.append(record)
        self._by_signature[tx.signature] = record
        return self._status_of(record)

    def status(self, tx: Transaction) -> TxStatus:
        """Return whether the transaction landed, failed, may still land, or expired."""
        landed = self._by_signature.get(tx.signature)
        if landed is not None:
            return self._status_of(landed)
        if self.clock.slot() > tx.last_valid_slot:
            return TxStatus(TxState.EXPIRED)
        return TxStatus(TxState.UNKNOWN)

    def ledger(self, memo: str | None = None) -> list[LandedTransaction]:
        """Return landed transactions, optionally only those whose memo matches."""
        return [t for t in self._ledger if memo is None or t.memo == memo]

    # -- internals ---------------------------------------------------------------------

    def _settle(
        self, tx: Transaction
    ) -> tuple[dict[str, Pool], dict[str, int], tuple[FailureKind, str] | None]:
        """Run the swaps on staged pools; return them, the payer's balance changes, the error."""
        staged: dict[str, Pool] = {}
        deltas: dict[str, int] = {}
        now = self._now()
        for swap in tx.swaps:
            pool = staged.get(swap.pool) or self._pools.get(swap.pool)
            a_to_b = None if pool is None else pool.direction(swap.mint_in, swap.mint_out)
            if pool is None or a_to_b is None:
                return staged, deltas, _failed(f"InvalidPool: {swap.pool} does not trade this pair")
            amount = swap.amount_in
            if amount is None:
                # "All of it" means what earlier swaps paid out, never the payer's own wallet.
                amount = deltas.get(swap.mint_in, 0) if swap.mint_in != tx.mint_in else 0
                if amount <= 0:
                    return staged, deltas, _failed("InvalidInstruction: no earlier output to spend")
            try:
                result, after = pool.math.swap(amount, a_to_b=a_to_b, now=now)
            except InsufficientLiquidityError as exc:
                failed = (FailureKind.INSUFFICIENT_LIQUIDITY, f"InsufficientLiquidity: {exc}")
                return staged, deltas, failed
            except ValueError as exc:
                return staged, deltas, _failed(f"InvalidInstruction: {exc}")
            staged[swap.pool] = replace(pool, math=after)
            deltas[swap.mint_in] = deltas.get(swap.mint_in, 0) - amount
            deltas[swap.mint_out] = deltas.get(swap.mint_out, 0) + result.amount_out
        # The payer brings only tokenIn: an intermediate token can be spent only once paid out.
        for mint, delta in deltas.items():
            if mint not in (tx.mint_in, tx.mint_out) and delta < 0:
                return (
                    staged,
                    deltas,
                    _failed(f"InsufficientFunds: spends {-delta} more {mint} than paid"),
                )
        return staged, deltas, None

    @staticmethod
    def _status_of(record: LandedTransaction) -> TxStatus:
        if record.success:
            return TxStatus(TxState.CONFIRMED, slot=record.slot, amount_out=record.amount_out)
        return TxStatus(
            TxState.FAILED, slot=record.slot, error=record.error, failure=record.failure
        )

    def _now(self) -> int:
        # Unix-like seconds derived from the slot, so time-dependent fees stay deterministic.
        return self.clock.slot() * 400 // 1000

    def _drift(self) -> None:
        """Apply seeded random trades for the slots that passed since the last look."""
        slot = self.clock.slot()
        steps = min(slot - self._drift_slot, 8)
        self._drift_slot = slot
        if steps <= 0 or not self._pools:
            return
        addresses = sorted(self._pools)
        for _ in itertools.repeat(None, steps):
            pool = self._pools[self._rng.choice(addresses)]
            a_to_b = self._rng.random() < 0.5
            reserve = pool.math.reserve_a if a_to_b else pool.math.reserve_b
            # A trade of up to 0.05 % of the input-side reserve nudges the price.
            amount = int(reserve * self._rng.uniform(0.00001, 0.0005))
            if amount <= 0:
                continue
            try:
                _, after = pool.math.swap(amount, a_to_b=a_to_b, now=self._now())
            except InsufficientLiquidityError:
                continue
            self.set_pool(replace(pool, math=after))

"""Real mainnet pools on the local chain: the engine's own path, swap by swap, to the base unit.

A dumped pool (:mod:`eterna.adapters.localchain.mainnet_pools`) is read as the engine reads
any pool (:func:`~eterna.adapters.solana.snapshots.needed_keys` and
:func:`~eterna.adapters.solana.snapshots.snapshot`), quoted with our math, and swapped with the
transaction the engine sends (:func:`~eterna.adapters.solana.transactions.build_swap_transaction`,
a minimum out of 0 so the program pays what it computes). The pool's vaults must move by
exactly the quote: in by the amount in, out by the amount out. A swap our math refuses must
fail on chain.

Amounts are drawn per direction from one base unit up to the most our math fills on the
dumped state, log-uniform, with single units and near-maximal swaps among them. Swaps run in
runs of :data:`RUN` from the dumped state (the chain is restored between runs), so most swaps
see the real state and the rest a price moved by the swaps before them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.fidelity.suite import Mismatch, Outcome
from eterna.adapters.localchain.mainnet_pools import LoadedPool, put_token_account
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.ids import WSOL_MINT
from eterna.adapters.solana.legs import PlannedSwap
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.snapshots import PoolSnapshot
from eterna.adapters.solana.spl import associated_token_address
from eterna.adapters.solana.transactions import (
    MAX_COMPUTE_UNITS,
    TransactionConfig,
    build_swap_transaction,
)
from eterna.amm.base import PoolMath

RUN: Final = 10
U64_MAX: Final = 2**64 - 1
WALLET_LAMPORTS: Final = 10**18
MAX_AMOUNT: Final = 10**17
# The most a transaction may use: a swap across many of a real pool's ticks passes the
# engine's per-venue budgets (:class:`TransactionConfig`), and this checks the math.
SWAP_BUDGET: Final = TransactionConfig(
    compute_unit_price=0,
    compute_units={
        "raydium": MAX_COMPUTE_UNITS,
        "orca": MAX_COMPUTE_UNITS,
        "meteora": MAX_COMPUTE_UNITS,
    },
)


@dataclass(frozen=True, slots=True)
class Swap:
    """One exact-in swap of a draw."""

    a_to_b: bool
    amount: int


def read(chain: LocalChain, entry: PoolEntry) -> PoolSnapshot:
    """Read the pool from the chain as the engine's reader does, and snapshot it."""
    return chain.read_pool(entry)


def most_in(pool: PoolMath, *, a_to_b: bool, now: int) -> int:
    """Return the largest amount in our math fills in one direction (0 when none)."""
    low, high = 0, U64_MAX
    while low < high:
        middle = (low + high + 1) // 2
        (result,) = pool.quote_amounts([middle], a_to_b=a_to_b, now=now)
        if result is None or result.amount_in < middle:
            high = middle - 1
        else:
            low = middle
    return low


def draw(rng: random.Random, limits: tuple[int, int], count: int) -> list[Swap]:
    """Draw count swaps, both directions, from one unit to the most each direction fills."""
    swaps = []
    for i in range(count):
        a_to_b = i % 2 == 0
        limit = limits[0 if a_to_b else 1]
        if limit < 1:
            continue
        kind = rng.random()
        if kind < 0.08:
            amount = 1
        elif kind < 0.16:
            amount = max(1, limit - rng.randint(0, max(1, limit // 20)))
        else:
            amount = int(10 ** rng.uniform(0, math.log10(limit)))
        swaps.append(Swap(a_to_b, min(max(amount, 1), limit)))
    return swaps


@dataclass(frozen=True, slots=True)
class ZeroFill:
    """A swap our math refuses as paying nothing, which the program landed: what it took."""

    swap: Swap
    taken: int


@dataclass(frozen=True, slots=True)
class Report:
    """A run's outcome, with what the program did beyond our math's answers.

    ``zero_fills``: the swaps that paid nothing but landed (counted as refused);
    ``max_compute_units``: the most a landed swap transaction used.
    """

    outcome: Outcome
    zero_fills: tuple[ZeroFill, ...]
    max_compute_units: int


def run(
    chain: LocalChain,
    pool: LoadedPool,
    *,
    swaps: int,
    seed: int,
    budget: TransactionConfig = SWAP_BUDGET,
) -> Report:
    """Run swaps random swaps on a loaded pool through the engine's path; compare each.

    ``budget``: the transactions' compute budget (the maximum by default).
    """
    entry = pool.entry
    first = read(chain, entry)
    if not first.tradable:
        raise ValueError(f"pool {entry.address} takes no swaps: {first.closed_reason}")
    now = first.unix_time
    # Up to what fills, and at most a few times the input reserve (a constant-product pool
    # fills any amount) and what the wallet wraps.
    limits = tuple(
        min(most_in(first.math, a_to_b=side, now=now), 3 * reserve + 1, MAX_AMOUNT)
        for side, reserve in ((True, first.reserves[0]), (False, first.reserves[1]))
    )
    drawn = draw(random.Random(seed), (limits[0], limits[1]), swaps)
    trader = chain.new_wallet(WALLET_LAMPORTS)
    dumped = chain.snapshot()
    outcome = Outcome()
    zero_fills: list[ZeroFill] = []
    units = 0
    for step, swap in enumerate(drawn):
        if step % RUN == 0:
            chain.restore(dumped)
        chain.advance(slots=1)
        one, zero, used = _one(
            chain, entry, trader, swap, budget, case=f"{entry.address}#{seed}", step=step
        )
        outcome += one
        units = max(units, used)
        if zero is not None:
            zero_fills.append(zero)
    return Report(outcome, tuple(zero_fills), units)


def _hold(chain: LocalChain, trader: Keypair, mint_in: Pubkey, swap: Swap) -> None:
    """Give the wallet exactly the swap's input (wrapped SOL: the transaction wraps lamports)."""
    if mint_in == WSOL_MINT:
        return
    program = chain.token_program_of(mint_in)
    account = associated_token_address(trader.pubkey(), mint_in, program)
    put_token_account(chain, account, mint_in, trader.pubkey(), swap.amount)


def _one(
    chain: LocalChain,
    entry: PoolEntry,
    trader: Keypair,
    swap: Swap,
    budget: TransactionConfig,
    *,
    case: str,
    step: int,
) -> tuple[Outcome, ZeroFill | None, int]:
    before = read(chain, entry)
    (quote,) = before.math.quote_amounts([swap.amount], a_to_b=swap.a_to_b, now=before.unix_time)
    mints = [Pubkey.from_string(m) for m in entry.mints]
    mint_in, mint_out = mints if swap.a_to_b else mints[::-1]
    _hold(chain, trader, mint_in, swap)
    planned = PlannedSwap(
        snapshot=before,
        a_to_b=swap.a_to_b,
        mint_in=mint_in,
        mint_out=mint_out,
        amount_in=swap.amount,
        expected_out=0 if quote is None else quote.amount_out,
        min_out=0,
    )
    tx = build_swap_transaction(
        [planned],
        wallet=trader,
        memo_text=f"{case} step {step}",
        blockhash=chain.latest_blockhash(),
        config=budget,
    )
    result = chain.send_transaction(tx.transaction)
    vault_in, vault_out = before.vaults if swap.a_to_b else before.vaults[::-1]
    problems = []
    if quote is None:
        paid = -result.token_change(vault_out)
        if result.ok and paid > 0:
            problems.append(f"our math refused {swap}; the program paid {paid}")
        elif result.ok:
            # The program lands a swap that pays nothing (Whirlpool: the input goes to fees);
            # our math refuses it, so the engine never sends one.
            zero = ZeroFill(swap, result.token_change(vault_in))
            return Outcome(swaps=1, refused=1), zero, result.compute_units
    elif not result.ok:
        problems.append(
            f"our math pays {quote.amount_out} for {swap}; the program failed: {result.error}"
        )
    else:
        moved = (result.token_change(vault_in), -result.token_change(vault_out))
        if moved != (quote.amount_in, quote.amount_out):
            problems.append(
                f"{swap}: quote in/out {quote.amount_in}/{quote.amount_out}, program {moved}"
            )
        if mint_out != WSOL_MINT:
            target = associated_token_address(
                trader.pubkey(), mint_out, chain.token_program_of(mint_out)
            )
            if result.token_change(target) != quote.amount_out:
                problems.append(f"{swap}: the wallet got {result.token_change(target)}")
    outcome = Outcome(
        swaps=1,
        filled=int(not problems and result.ok),
        refused=int(not problems and not result.ok),
        mismatches=tuple(Mismatch(case, step, p) for p in problems),
    )
    return outcome, None, result.compute_units if result.ok else 0


__all__ = ["RUN", "Report", "Swap", "ZeroFill", "draw", "most_in", "read", "run"]

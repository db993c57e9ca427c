"""Raydium CP-Swap against our constant-product math, swap by swap, to the base unit.

Each case is a pool (fee rate, protocol and fund shares, first liquidity) and a sequence of
exact-in swaps on it, so fees owed to the protocol and fund accumulate and the price moves.
Before every swap the pool is read from the chain and quoted with
:class:`~eterna.amm.constant_product.ConstantProductPool`; the real ``swap_base_input`` runs
with a minimum out of 0, and the trader's token changes must equal the quote. A swap our math
refuses must fail on chain with the program's own refusal, and the state after each swap
(swap reserves, owed fees) must be the one our math's ``swap`` returns.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from solders.pubkey import Pubkey

from eterna.adapters.localchain.cpswap_pools import (
    CpswapPool,
    CpswapSnapshot,
    create_pool,
    put_amm_config,
    read_pool,
)
from eterna.adapters.localchain.fidelity.suite import Mismatch, Outcome, Suite
from eterna.adapters.localchain.results import TxResult
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana import cpswap
from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.constant_product import FEE_RATE_DENOMINATOR, ConstantProductPool

# Anchor's RequireGtViolated: the program's refusal of a swap that would pay nothing.
REFUSAL_CODE = 2505
MAX_SWAPS_PER_CASE = 25
# Keeps every vault, supply and k inside the program's u64 / u128 arithmetic.
MAX_RESERVE = 10**18
MAX_AMOUNT = 5 * 10**17
_TRADE_FEE_RATES = (0, 1, 100, 500, 2_500, 2_500, 10_000, 40_000, 999_999)


@dataclass(frozen=True, slots=True)
class Swap:
    """One exact-in swap of a case."""

    zero_for_one: bool
    amount: int


@dataclass(frozen=True, slots=True)
class Case:
    """A pool and the swaps run on it; its fields alone reproduce the run."""

    index: int
    trade_fee_rate: int
    protocol_fee_rate: int
    fund_fee_rate: int
    decimals: tuple[int, int]
    amounts: tuple[int, int]
    swaps: tuple[Swap, ...]


def cases(rng: random.Random, swaps: int) -> list[Case]:
    """Draw cases until they hold at least swaps swaps."""
    drawn: list[Case] = []
    total = 0
    while total < swaps:
        case = _case(rng, len(drawn), min(rng.randint(1, MAX_SWAPS_PER_CASE), swaps - total))
        drawn.append(case)
        total += len(case.swaps)
    return drawn


def _case(rng: random.Random, index: int, count: int) -> Case:
    trade = rng.choice((*_TRADE_FEE_RATES, rng.randrange(FEE_RATE_DENOMINATOR)))
    protocol = rng.choice((0, 120_000, FEE_RATE_DENOMINATOR, rng.randint(0, FEE_RATE_DENOMINATOR)))
    room = FEE_RATE_DENOMINATOR - protocol
    fund = rng.choice((0, min(40_000, room), room, rng.randint(0, room)))
    amounts = _reserves(rng)
    return Case(
        index=index,
        trade_fee_rate=trade,
        protocol_fee_rate=protocol,
        fund_fee_rate=fund,
        decimals=(rng.choice((0, 5, 6, 9)), rng.choice((0, 5, 6, 9))),
        amounts=amounts,
        swaps=tuple(_swap(rng, amounts) for _ in range(count)),
    )


def _log_uniform(rng: random.Random, low: float, high: float) -> int:
    return int(10 ** rng.uniform(low, high))


def _reserves(rng: random.Random) -> tuple[int, int]:
    while True:
        a, b = _log_uniform(rng, 1, 18), _log_uniform(rng, 1, 18)
        # initialize locks 100 LP units and needs isqrt(a * b) above them.
        if a * b > 101**2:
            return min(a, MAX_RESERVE), min(b, MAX_RESERVE)


def _swap(rng: random.Random, reserves: tuple[int, int]) -> Swap:
    zero_for_one = rng.random() < 0.5
    reserve_in, reserve_out = reserves if zero_for_one else reserves[::-1]
    kind = rng.random()
    if kind < 0.1:
        amount = 1
    elif kind < 0.2:
        amount = rng.randint(2, 1_000)
    elif kind < 0.3:  # pool-draining: up to 30 times what the pool holds of the input
        amount = int(reserve_in * 10 ** rng.uniform(0, 1.5))
    else:  # from about the least that pays one unit up to the whole input reserve
        least = max(1.0, reserve_in / reserve_out) / 2
        amount = int(10 ** rng.uniform(math.log10(least), math.log10(reserve_in) + 0.01))
    return Swap(zero_for_one, min(max(amount, 1), MAX_AMOUNT))


def run(chain: LocalChain, case: Case) -> Outcome:
    """Create the case's pool on the chain, run its swaps, and compare each with our math."""
    pool = _create(chain, case)
    trader = chain.new_wallet()
    spent = [sum(s.amount for s in case.swaps if s.zero_for_one == side) for side in (True, False)]
    accounts = (
        chain.fund(trader.pubkey(), pool.mint_0, spent[0]),
        chain.fund(trader.pubkey(), pool.mint_1, spent[1]),
    )
    chain.advance(seconds=1, slots=1)  # the pool opens one second after initialize
    outcome = Outcome()
    before = read_pool(chain, pool.address)
    for step, swap in enumerate(case.swaps):
        source, target = accounts if swap.zero_for_one else accounts[::-1]
        ix = cpswap.swap_base_input(
            pool.address,
            before.state,
            payer=trader.pubkey(),
            zero_for_one=swap.zero_for_one,
            input_account=source,
            output_account=target,
            amount_in=swap.amount,
            minimum_amount_out=0,
        )
        quote = _quote(before.math, swap)
        result = chain.send([ix], payer=trader)
        after = read_pool(chain, pool.address)
        problems = _compare(swap, quote, result, (source, target), before=before, after=after)
        outcome += Outcome(
            swaps=1,
            filled=int(not problems and result.ok),
            refused=int(not problems and not result.ok),
            mismatches=tuple(Mismatch(repr(case), step, p) for p in problems),
        )
        before = after
        chain.advance(slots=1)
    return outcome


def _create(chain: LocalChain, case: Case) -> CpswapPool:
    config = put_amm_config(
        chain,
        case.index % 2**16,
        trade_fee_rate=case.trade_fee_rate,
        protocol_fee_rate=case.protocol_fee_rate,
        fund_fee_rate=case.fund_fee_rate,
    )
    # The case speaks of token 0 and 1: the lower mint address gets token 0's decimals.
    low, high = sorted((chain.new_keypair(), chain.new_keypair()), key=lambda k: bytes(k.pubkey()))
    mint_0 = chain.create_mint(case.decimals[0], mint=low)
    mint_1 = chain.create_mint(case.decimals[1], mint=high)
    return create_pool(chain, config, (mint_0, case.amounts[0]), (mint_1, case.amounts[1]))


def _quote(pool: ConstantProductPool, swap: Swap) -> tuple[SwapResult, ConstantProductPool] | None:
    try:
        return pool.swap(swap.amount, a_to_b=swap.zero_for_one)
    except InsufficientLiquidityError:
        return None


def _compare(
    swap: Swap,
    quote: tuple[SwapResult, ConstantProductPool] | None,
    result: TxResult,
    accounts: tuple[Pubkey, Pubkey],
    *,
    before: CpswapSnapshot,
    after: CpswapSnapshot,
) -> list[str]:
    """Return what disagreed (nothing when the program and our math agree)."""
    if quote is None:
        if result.ok:
            return [f"our math refused; the program paid {result.token_change(accounts[1])}"]
        if result.error is None or result.error.custom_code != REFUSAL_CODE:
            return [f"both refused, the program for another reason: {result.error}"]
        return []
    if not result.ok:
        return [f"our math pays {quote[0].amount_out}; the program failed: {result.error}"]
    fill, expected = quote
    problems = []
    paid, got = -result.token_change(accounts[0]), result.token_change(accounts[1])
    if (paid, got) != (fill.amount_in, fill.amount_out):
        problems.append(f"quote in/out {fill.amount_in}/{fill.amount_out}, program {paid}/{got}")
    reserves = (after.math.reserve_a, after.math.reserve_b)
    if reserves != (expected.reserve_a, expected.reserve_b):
        problems.append(
            f"reserves after: ours {expected.reserve_a}/{expected.reserve_b}, program {reserves}"
        )
    owed = _owed_change(before, after, zero_for_one=swap.zero_for_one)
    if owed != before.math.fee_shares(fill.fee):
        problems.append(f"protocol/fund fees: ours {before.math.fee_shares(fill.fee)}, {owed}")
    return problems


def _owed_change(
    before: CpswapSnapshot, after: CpswapSnapshot, *, zero_for_one: bool
) -> tuple[int, int]:
    b, a = before.state, after.state
    if zero_for_one:
        return (
            a.protocol_fees_token_0 - b.protocol_fees_token_0,
            a.fund_fees_token_0 - b.fund_fees_token_0,
        )
    return (
        a.protocol_fees_token_1 - b.protocol_fees_token_1,
        a.fund_fees_token_1 - b.fund_fees_token_1,
    )


SUITE = Suite("cpswap", cases, run)

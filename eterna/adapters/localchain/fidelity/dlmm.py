"""Meteora DLMM against our bin math, swap by swap, to the base unit (lb_clmm 0.12.0).

A case (:mod:`~eterna.adapters.localchain.fidelity.dlmm_cases`) is one pair and a sequence of swaps
on it, the clock moving between them so the volatility accumulator builds up, decays and
resets. Each swap is quoted as Eterna quotes (read the accounts,
:func:`~eterna.adapters.solana.dlmm_swap.pool_state`, our math), then the real ``swap2`` runs with a
minimum out of 0. The trader's token changes must equal the quote; the pair, its bins and
its vaults after the swap must equal the state our math's ``swap`` returns; and a swap our
math refuses must fail on chain with a cannot-fill error, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.dlmm_pools import DlmmPools
from eterna.adapters.localchain.fidelity.dlmm_cases import DlmmCase, Size, Step, cases
from eterna.adapters.localchain.fidelity.suite import Mismatch, Outcome, Suite
from eterna.adapters.localchain.results import TxResult
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.dlmm import (
    BitmapExtension,
    bin_array_address,
    decode_bin_array,
    decode_bitmap_extension,
)
from eterna.adapters.solana.dlmm_swap import (
    bin_arrays_for_swap,
    liquid_bin_arrays,
    pool_state,
    swap2,
)
from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.dlmm import DlmmPool

COMPUTE_UNIT_LIMIT: Final = 1_400_000
TRADER_FUNDS: Final = 2**63 - 1
U64_MAX: Final = 2**64 - 1
MAX_BIN_ARRAYS: Final = 16  # more than any case's pair holds, fewer than a transaction fits
# The program's answers to a swap it cannot fill (lb_clmm 0.12.0 error codes): the input
# that empties a bin does not fit u64 (6019, TypeCastFailed), the swap runs past the last
# bin array and the program asks for the bitmap extension to look further (6036) or finds
# nothing there (6037), nothing would come out (6039).
CANNOT_FILL: Final = frozenset({6019, 6036, 6037, 6039})


@dataclass(frozen=True, slots=True)
class _Market:
    """The pair under test and the trader's wallet and token accounts of X and Y."""

    pools: DlmmPools
    lb_pair: Pubkey
    wallet: Keypair
    x: Pubkey
    y: Pubkey


def run(chain: LocalChain, case: DlmmCase) -> Outcome:
    """Create the case's pair on the chain, run its swaps, and compare each with our math."""
    market = _create(chain, case)
    outcome = Outcome()
    for index, step in enumerate(case.steps):
        chain.advance(seconds=step.wait, slots=1)
        outcome += _swap(market, case, index, step)
    return outcome


def _create(chain: LocalChain, case: DlmmCase) -> _Market:
    """Create the pair, add the case's liquidity through the program, and fund a trader."""
    pools = DlmmPools(chain)
    mint_x, mint_y = sorted((chain.create_mint(6), chain.create_mint(9)), key=bytes)
    lb_pair = pools.create_pair(mint_x, mint_y, case.fees, active_id=case.active_id)
    provider = chain.new_wallet()
    chain.fund(provider.pubkey(), mint_x, sum(d.amount_x for d in case.deposits))
    chain.fund(provider.pubkey(), mint_y, sum(d.amount_y for d in case.deposits))
    for deposit in case.deposits:
        pools.deposit(lb_pair, provider, deposit)
    wallet = chain.new_wallet()
    x = chain.fund(wallet.pubkey(), mint_x, TRADER_FUNDS)
    y = chain.fund(wallet.pubkey(), mint_y, TRADER_FUNDS)
    return _Market(pools, lb_pair, wallet, x, y)


def _swap(market: _Market, case: DlmmCase, index: int, step: Step) -> Outcome:
    """Quote one swap from the accounts, send it, and compare; return its outcome."""
    chain, lb_pair = market.pools.chain, market.lb_pair
    before, now = read_state(market.pools, lb_pair), chain.unix_time
    amount = resolve(step.size, before, a_to_b=step.swap_for_y, now=now)
    pair, (extension, bitmap) = market.pools.pair(lb_pair), _extension(market.pools, lb_pair)
    user_in, user_out = (market.x, market.y) if step.swap_for_y else (market.y, market.x)
    instruction = swap2(
        lb_pair,
        pair,
        user=market.wallet.pubkey(),
        user_token_in=user_in,
        user_token_out=user_out,
        amount_in=amount,
        min_amount_out=0,
        bin_arrays=bin_arrays_for_swap(
            pair, swap_for_y=step.swap_for_y, count=MAX_BIN_ARRAYS, extension=bitmap
        ),
        bitmap_extension=extension,
    )
    result = chain.send(
        [instruction], [market.wallet], payer=market.wallet, compute_unit_limit=COMPUTE_UNIT_LIMIT
    )
    quote = _quote(before, amount, step, now)
    problems = compare(quote, result, user_in=user_in, user_out=user_out)
    # The ladder the router quotes with must say what the single swap says.
    ladder = before.quote_amounts([amount], a_to_b=step.swap_for_y, now=now)[0]
    if ladder != (None if isinstance(quote, str) else quote):
        problems.append(f"our ladder quote {ladder} differs from our swap {quote}")
    if result.ok and not problems:
        problems = compare_states(before, amount, step, now, read_state(market.pools, lb_pair))
    where = f"{'X->Y' if step.swap_for_y else 'Y->X'} {amount} at t={now}, {step}"
    return Outcome(
        swaps=1,
        filled=int(result.ok and not problems),
        refused=int(not result.ok and not problems),
        mismatches=tuple(
            Mismatch(str(case), index, f"{where}: {problem}; pool before: {before}")
            for problem in problems
        ),
    )


def resolve(size: Size, pool: DlmmPool, *, a_to_b: bool, now: int) -> int:
    """Return the amount a size means on this state (at least 1, at most u64)."""
    steps = pool.emptying_inputs(a_to_b=a_to_b, now=now)
    most = steps[-1][1] if steps else 1_000
    if size.kind == "units":
        amount = size.value
    elif size.kind == "share":
        amount = most * size.value // 1_000_000
    elif size.kind == "edge" and steps:
        amount = steps[min(size.value, len(steps) - 1)][1]
    else:
        amount = most
    return min(max(1, amount + size.offset), U64_MAX)


def read_state(pools: DlmmPools, lb_pair: Pubkey) -> DlmmPool:
    """Return our math's state of the whole pair, vault balances included, from the chain."""
    chain = pools.chain
    pair, (_, bitmap) = pools.pair(lb_pair), _extension(pools, lb_pair)
    arrays = [
        decode_bin_array(chain.account_data(bin_array_address(lb_pair, index)))
        for index in liquid_bin_arrays(pair, bitmap)
    ]
    return pool_state(
        pair,
        arrays,
        vault_x=chain.token_balance(pair.reserve_x),
        vault_y=chain.token_balance(pair.reserve_y),
    )


def _extension(pools: DlmmPools, lb_pair: Pubkey) -> tuple[Pubkey | None, BitmapExtension | None]:
    """Return the pair's bitmap extension, address and decoded, when it has one."""
    address = pools.extension(lb_pair)
    if address is None:
        return None, None
    return address, decode_bitmap_extension(pools.chain.account_data(address))


def _quote(pool: DlmmPool, amount: int, step: Step, now: int) -> SwapResult | str:
    """Return our math's quote, or why it refuses the swap."""
    try:
        return pool.swap(amount, a_to_b=step.swap_for_y, now=now)[0]
    except InsufficientLiquidityError as exc:
        return str(exc)


def compare(
    quote: SwapResult | str, result: TxResult, *, user_in: Pubkey, user_out: Pubkey
) -> list[str]:
    """Compare what the trader's accounts did with our math's quote (or refusal)."""
    if isinstance(quote, str):
        if result.error is None:
            return [f"our math refused ({quote}) but the program filled it"]
        if result.error.custom_code not in CANNOT_FILL:
            return [f"the program failed with {result.error}, not a cannot-fill error"]
        return []
    if result.error is not None:
        tail = " | ".join(result.logs[-4:])
        return [f"our math filled {quote} but the program failed: {result.error}: {tail}"]
    paid, got = -result.token_change(user_in), result.token_change(user_out)
    if (paid, got) != (quote.amount_in, quote.amount_out):
        return [f"the program took {paid} and paid {got}; our math {quote}"]
    return []


def compare_states(
    before: DlmmPool, amount: int, step: Step, now: int, found: DlmmPool
) -> list[str]:
    """Compare the pair the program left with the state our math's swap returns."""
    _, ours = before.swap(amount, a_to_b=step.swap_for_y, now=now)
    if ours == found:
        return []
    fields = [name for name in DlmmPool.__dataclass_fields__ if name != "bins"]
    diffs = [
        f"{name}: program {getattr(found, name)}, ours {getattr(ours, name)}"
        for name in fields
        if getattr(found, name) != getattr(ours, name)
    ]
    program_bins, our_bins = set(found.bins), set(ours.bins)
    if program_bins != our_bins:
        only_program, only_ours = sorted(program_bins - our_bins), sorted(our_bins - program_bins)
        diffs.append(f"bins: program {only_program}, ours {only_ours}")
    return ["the state after the swap differs: " + "; ".join(diffs)]


SUITE = Suite("dlmm", cases, run)

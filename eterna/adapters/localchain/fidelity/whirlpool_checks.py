"""One Whirlpool swap checked to the base unit: size it, quote it, run it, compare.

Our math's answer is :meth:`WhirlpoolPool.program_swap` on the pool as read from the chain
just before the swap; the program's is what the trader's token accounts gained and lost. They
agree when both fill with the same input and output and leave the same pool state (price,
tick, liquidity, fee growth, protocol fees, vaults), or when both refuse. Along the way the
check also holds our quoting paths to the same answer: :meth:`WhirlpoolPool.swap` (which
refuses partial and zero-output fills) and the one-walk ladder ``quote_amounts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.fidelity.suite import Mismatch, Outcome
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.localchain.whirlpool_pools import ChainWhirlpool, read_whirlpool
from eterna.adapters.solana.whirlpool import SwapV2, swap_v2, tick_array_address
from eterna.amm.base import InsufficientLiquidityError, SwapResult
from eterna.amm.clmm_math import (
    MAX_SQRT_PRICE_X64,
    MIN_SQRT_PRICE_X64,
    amount_delta_a,
    amount_delta_b,
    sqrt_price_from_tick_index,
)
from eterna.amm.whirlpool import WhirlpoolPool
from eterna.amm.whirlpool_reach import (
    ends_walk,
    swap_reach,
    tick_array_start,
    ticks_in_array,
)
from eterna.amm.whirlpool_step import whole_step

# The largest swap a step makes. A case's supply of a token (2^60 deposited, 2^62 given to the
# trader, at most 40 swaps of this size minted on top) stays within a u64.
MAX_AMOUNT = 1 << 58


@dataclass(frozen=True, slots=True)
class SwapStep:
    """One swap of a case: direction, how to size it, and what happens around it.

    ``size`` is ``dust`` or ``units`` (``value`` base units), ``share`` (``value`` per mille of
    what the arrays the swap reads can fill) or ``tick`` (the input that ends the walk
    exactly on the ``value``-th tick it reaches, plus ``nudge``). The clock moves ``advance``
    seconds first; ``supplemental`` neighbouring tick arrays ride as remaining accounts.
    """

    a_to_b: bool
    size: str
    value: int
    nudge: int
    advance: int
    supplemental: int


@dataclass(frozen=True, slots=True)
class SwapCheck:
    """What our math and the program did with one swap, and where they differed."""

    step: SwapStep
    amount: int
    before: WhirlpoolPool
    quoted: SwapResult | None
    refusal: str | None
    paid: int | None
    received: int | None
    chain_error: str | None
    problems: tuple[str, ...]
    crossed: int
    tick_after: int
    starts_on_tick: bool
    ends_on_tick: bool

    def describe(self) -> str:
        """Return the swap's inputs, both answers and the problems, on one line."""
        b = self.before
        return (
            f"amount={self.amount} a_to_b={self.step.a_to_b} {self.step} | before: sqrt_price="
            f"{b.sqrt_price_x64} tick={b.tick_current} liquidity={b.liquidity} | math: "
            f"{self.quoted or self.refusal} | chain: paid={self.paid} received={self.received}"
            f" error={self.chain_error} | {'; '.join(self.problems)}"
        )


def step_ends(pool: WhirlpoolPool, *, a_to_b: bool) -> list[int]:
    """Return the inputs that end a swap exactly on each tick its walk reaches, in order.

    The last is what the tick arrays the swap reads can fill (or what reaches the end of the
    price range). Only sizes swaps for the check; the answer under test is the pool's own.
    """
    reach = swap_reach(pool.tick_current, pool.tick_spacing, a_to_b=a_to_b)
    nets = dict(pool.ticks)
    limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
    delta = amount_delta_a if a_to_b else amount_delta_b
    sqrt_price, tick, liquidity = pool.sqrt_price_x64, pool.tick_current, pool.liquidity
    spent, ends = 0, []
    while sqrt_price != limit:
        if a_to_b:
            next_tick = max((i for i in nets if reach.edge <= i <= tick), default=reach.edge)
        else:
            next_tick = min((i for i in nets if tick < i <= reach.edge), default=reach.edge)
        target = sqrt_price_from_tick_index(next_tick)
        to_target = delta(sqrt_price, target, liquidity, round_up=True)
        fee = whole_step(to_target, pool.fee_rate, liquidity, sqrt_price, target, a_to_b=a_to_b)[3]
        spent += to_target + fee
        ends.append(spent)
        liquidity += -nets.get(next_tick, 0) if a_to_b else nets.get(next_tick, 0)
        tick, sqrt_price = (next_tick - 1 if a_to_b else next_tick), target
        if ends_walk(reach, next_tick, a_to_b=a_to_b):
            break
    return ends


def size_amount(pool: WhirlpoolPool, step: SwapStep) -> int:
    """Return the amount a step swaps on pool, from 1 to :data:`MAX_AMOUNT`."""
    amount = step.value
    if step.size in {"share", "tick"}:
        ends = step_ends(pool, a_to_b=step.a_to_b) or [1]
        if step.size == "share":
            amount = ends[-1] * step.value // 1_000
        else:
            amount = ends[min(step.value, len(ends)) - 1] + step.nudge
    return max(1, min(amount, MAX_AMOUNT))


def _top_up(chain: LocalChain, trader: Keypair, account: Pubkey, amount: int) -> None:
    """Mint the trader what it lacks to pay amount.

    Near an end of the price range a pool takes the cheap token by the quintillion, more over
    a sequence than the trader starts with; the mint's u64 supply still holds it all (see
    :data:`MAX_AMOUNT`).
    """
    held = chain.token_account(account)
    if held.amount < amount:
        chain.fund(trader.pubkey(), held.mint, amount - held.amount)


def check_swap(
    chain: LocalChain,
    pool: ChainWhirlpool,
    trader: Keypair,
    accounts: tuple[Pubkey, Pubkey],
    step: SwapStep,
    *,
    memo_text: str,
) -> SwapCheck:
    """Run one step's swap on the chain and compare it with our math's answer."""
    if step.advance:
        chain.advance(seconds=step.advance)
    state, before = read_whirlpool(chain, pool.address)
    source, target = accounts if step.a_to_b else accounts[::-1]
    amount = size_amount(before, step)
    _top_up(chain, trader, source, amount)
    quoted: SwapResult | None = None
    after: WhirlpoolPool | None = None
    refusal = None
    try:
        quoted, after = before.program_swap(amount, a_to_b=step.a_to_b)
    except InsufficientLiquidityError as exc:
        refusal = str(exc)
    extra = _supplemental(pool, before, step)
    swap = SwapV2(
        trader.pubkey(), *accounts, amount, 0, step.a_to_b, supplemental_tick_arrays=extra
    )
    result = chain.send(
        [swap_v2(pool.address, state, swap)], [trader], payer=trader, memo_text=memo_text
    )
    paid, received = (-result.token_change(source), result.token_change(target))
    problems = _chain_problems(quoted, (paid, received), result.ok)
    problems += _quote_problems(before, amount, step.a_to_b, quoted)
    if after is not None and result.ok:
        problems.extend(_state_problems(after, read_whirlpool(chain, pool.address)[1]))
    final = after if after is not None and result.ok else before
    return SwapCheck(
        step=step,
        amount=amount,
        before=before,
        quoted=quoted,
        refusal=refusal,
        paid=paid if result.ok else None,
        received=received if result.ok else None,
        chain_error=None if result.error is None else result.error.message,
        problems=tuple(problems),
        crossed=_crossed(before, final),
        tick_after=final.tick_current,
        starts_on_tick=_on_tick(before),
        ends_on_tick=_on_tick(final),
    )


def summarize(case: str, checks: Mapping[int, SwapCheck]) -> Outcome:
    """Return the outcome of a case's checks (by step), each disagreement with its inputs."""
    return Outcome(
        swaps=len(checks),
        filled=sum(1 for c in checks.values() if c.paid is not None),
        refused=sum(1 for c in checks.values() if c.paid is None and c.quoted is None),
        mismatches=tuple(
            Mismatch(case=case, step=i, detail=c.describe())
            for i, c in checks.items()
            if c.problems
        ),
    )


def _chain_problems(quoted: SwapResult | None, moved: tuple[int, int], landed: bool) -> list[str]:
    """Compare what the program did with our math's answer."""
    if quoted is None:
        return ["the program filled a swap our math refuses"] if landed else []
    if not landed:
        return ["the program refused a swap our math fills"]
    if moved != (quoted.amount_in, quoted.amount_out):
        return [f"the program moved (in, out) = {moved}"]
    return []


def _quote_problems(
    before: WhirlpoolPool, amount: int, a_to_b: bool, quoted: SwapResult | None
) -> list[str]:
    """Hold swap() and the ladder to program_swap(): equal, save the fills they refuse."""
    try:
        expected: SwapResult | None = before.swap(amount, a_to_b=a_to_b)[0]
    except InsufficientLiquidityError:
        expected = None
    whole = quoted is not None and quoted.amount_in == amount and quoted.amount_out > 0
    problems = [] if expected == (quoted if whole else None) else [f"swap() answers {expected}"]
    ladder = before.quote_amounts([amount], a_to_b=a_to_b)[0]
    if ladder != expected:
        problems.append(f"quote_amounts() answers {ladder}")
    return problems


def _supplemental(pool: ChainWhirlpool, before: WhirlpoolPool, step: SwapStep) -> list[Pubkey]:
    """Return neighbouring arrays to pass as remaining accounts (the program ignores extras)."""
    span = ticks_in_array(before.tick_spacing)
    base = tick_array_start(before.tick_current, before.tick_spacing)
    near = (base + span, base - 3 * span, base + 2 * span)
    return [tick_array_address(pool.address, s) for s in near][: step.supplemental]


def _on_tick(pool: WhirlpoolPool) -> bool:
    return any(pool.sqrt_price_x64 == sqrt_price_from_tick_index(i) for i, _ in pool.ticks)


def _crossed(before: WhirlpoolPool, after: WhirlpoolPool) -> int:
    low, high = sorted((before.tick_current, after.tick_current))
    return sum(1 for i, _ in before.ticks if low < i <= high)


def _state_problems(expected: WhirlpoolPool, read: WhirlpoolPool) -> list[str]:
    """Compare the pool after the swap with our math's, field by field.

    The ticks read depend on where the price now is (the arrays a swap from there reads), so
    only the ticks both hold are compared: a swap changes no tick's liquidity.
    """
    problems = [
        f"{name} after the swap: ours {ours}, the program's {theirs}"
        for name in _STATE_FIELDS
        if (ours := getattr(expected, name)) != (theirs := getattr(read, name))
    ]
    nets = dict(expected.ticks)
    if any(nets.get(index, net) != net for index, net in read.ticks):
        problems.append("a tick's liquidity changed across the swap")
    return problems


_STATE_FIELDS = (
    "sqrt_price_x64",
    "tick_current",
    "liquidity",
    "balance_a",
    "balance_b",
    "protocol_fee_owed_a",
    "protocol_fee_owed_b",
    "fee_growth_global_a",
    "fee_growth_global_b",
)

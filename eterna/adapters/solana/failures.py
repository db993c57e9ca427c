"""Why a swap transaction failed on chain, as a :class:`~eterna.domain.failures.FailureKind`.

Each program has its own code for "pays less than the minimum out" and its own ways of saying
"the pool cannot fill this": those become SLIPPAGE and INSUFFICIENT_LIQUIDITY (retryable on
a fresh quote); every other failure - a token program's insufficient funds, a closed pool,
a runtime error - is TRANSACTION_FAILED. The message starts with the name the engine has
always shown for the kind.
"""

from __future__ import annotations

from typing import Final

from solders.pubkey import Pubkey

from eterna.adapters.solana.clusters import PROGRAM_IDS
from eterna.adapters.solana.cpswap import ErrorCode as CpswapError
from eterna.adapters.solana.rpc import TxErr
from eterna.adapters.solana.whirlpool import WhirlpoolProgramError as WhirlpoolError
from eterna.domain.failures import FailureKind

# Anchor's RequireGtViolated: CP-Swap's refusal of a swap that would pay nothing.
ANCHOR_REQUIRE_GT_VIOLATED: Final = 2505
WHIRLPOOL_PARTIAL_FILL: Final = 6057  # the walk reached the end of the price range
DLMM_AMOUNT_SLIPPAGE: Final = 6003  # ExceededAmountSlippageTolerance
DLMM_BIN_SLIPPAGE: Final = 6004  # ExceededBinSlippageTolerance
# PairInsufficientLiquidity, TypeCastFailed (a bin's input past u64), bitmap extension needed
# to look further, no liquid bin array left, nothing would come out.
DLMM_CANNOT_FILL: Final = frozenset({6012, 6019, 6036, 6037, 6039})

_SLIPPAGE_BY_VENUE: Final[dict[str, frozenset[int]]] = {
    "raydium": frozenset({CpswapError.EXCEEDED_SLIPPAGE}),
    "orca": frozenset({WhirlpoolError.AMOUNT_OUT_BELOW_MINIMUM}),
    "meteora": frozenset({DLMM_AMOUNT_SLIPPAGE, DLMM_BIN_SLIPPAGE}),
}
_CANNOT_FILL_BY_VENUE: Final[dict[str, frozenset[int]]] = {
    "raydium": frozenset({ANCHOR_REQUIRE_GT_VIOLATED, CpswapError.ZERO_TRADING_TOKENS}),
    "orca": frozenset(
        {
            WhirlpoolError.ZERO_TRADABLE_AMOUNT,
            WhirlpoolError.TICK_ARRAY_SEQUENCE_INVALID_INDEX,
            # The price left the tick arrays the swap was given before it landed.
            WhirlpoolError.INVALID_TICK_ARRAY_SEQUENCE,
            WHIRLPOOL_PARTIAL_FILL,
        }
    ),
    "meteora": DLMM_CANNOT_FILL,
}
# Each program's codes at its address on every cluster (CP-Swap's devnet id differs).
_VENUE_OF: Final[dict[Pubkey, str]] = {
    program: venue for ids in PROGRAM_IDS.values() for venue, program in ids.by_venue().items()
}
_SLIPPAGE: Final[dict[Pubkey, frozenset[int]]] = {
    program: _SLIPPAGE_BY_VENUE[venue] for program, venue in _VENUE_OF.items()
}
_CANNOT_FILL: Final[dict[Pubkey, frozenset[int]]] = {
    program: _CANNOT_FILL_BY_VENUE[venue] for program, venue in _VENUE_OF.items()
}
_NAMES: Final = {
    FailureKind.SLIPPAGE: "SlippageToleranceExceeded",
    FailureKind.INSUFFICIENT_LIQUIDITY: "InsufficientLiquidity",
    FailureKind.TRANSACTION_FAILED: "TransactionFailed",
    FailureKind.SIMULATION_FAILED: "SimulationFailed",
    FailureKind.BLOCKHASH_EXPIRED: "BlockhashExpired",
}


def failure_kind(err: TxErr, program: Pubkey | None) -> FailureKind:
    """Return the kind of a landed transaction's error; program ran the failing instruction."""
    code = err.custom_code
    if program is None or code is None:
        return FailureKind.TRANSACTION_FAILED
    if code in _SLIPPAGE.get(program, ()):
        return FailureKind.SLIPPAGE
    if code in _CANNOT_FILL.get(program, ()):
        return FailureKind.INSUFFICIENT_LIQUIDITY
    return FailureKind.TRANSACTION_FAILED


def simulation_failure(err: TxErr, program: Pubkey | None) -> FailureKind:
    """Return the kind of a failed simulation: as a landed failure's, told apart when not on price.

    A simulation that fails on price (slippage, liquidity) fails as the transaction would;
    a stale blockhash is an expired one (retried on a fresh one); anything else would fail
    on chain for good, but nothing was sent: SIMULATION_FAILED.
    """
    if err.kind == "BlockhashNotFound":
        return FailureKind.BLOCKHASH_EXPIRED
    kind = failure_kind(err, program)
    return FailureKind.SIMULATION_FAILED if kind is FailureKind.TRANSACTION_FAILED else kind


def describe(err: TxErr, program: Pubkey | None, kind: FailureKind) -> str:
    """Return the failure's message: the kind's name, the program, its code and the error."""
    where = ""
    if err.instruction_index is not None:
        who = _VENUE_OF.get(program, str(program)) if program is not None else "?"
        where = f" in instruction {err.instruction_index} ({who})"
    detail = err.kind
    if err.instruction_error is not None:
        detail = err.instruction_error
        if err.custom_code is not None:
            detail += f" {err.custom_code}"
    return f"{_NAMES.get(kind, kind.value)}: {detail}{where}"

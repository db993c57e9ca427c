"""What a failed swap transaction says, the minimums split among legs, the stored transaction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from eterna.adapters.solana.failures import describe, failure_kind
from eterna.adapters.solana.ids import CPSWAP_PROGRAM, DLMM_PROGRAM, MEMO_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.adapters.solana.legs import split_minimum
from eterna.adapters.solana.rpc import TxErr
from eterna.domain.failures import FailureKind
from eterna.routing.venues import SwapInstruction, Transaction


def custom(code: int, index: int = 3) -> TxErr:
    """Return an instruction's custom program error, as the runtime reports it."""
    return TxErr("InstructionError", index, "Custom", code)


@pytest.mark.parametrize(
    ("program", "code", "kind"),
    [
        (CPSWAP_PROGRAM, 6005, FailureKind.SLIPPAGE),  # ExceededSlippage
        (CPSWAP_PROGRAM, 2505, FailureKind.INSUFFICIENT_LIQUIDITY),  # pays nothing
        (CPSWAP_PROGRAM, 6000, FailureKind.TRANSACTION_FAILED),  # NotApproved
        (WHIRLPOOL_PROGRAM, 6036, FailureKind.SLIPPAGE),  # AmountOutBelowMinimum
        (WHIRLPOOL_PROGRAM, 6038, FailureKind.INSUFFICIENT_LIQUIDITY),  # past the arrays
        (WHIRLPOOL_PROGRAM, 6057, FailureKind.INSUFFICIENT_LIQUIDITY),  # partial fill
        (WHIRLPOOL_PROGRAM, 6005, FailureKind.TRANSACTION_FAILED),
        (DLMM_PROGRAM, 6003, FailureKind.SLIPPAGE),  # ExceededAmountSlippageTolerance
        (DLMM_PROGRAM, 6037, FailureKind.INSUFFICIENT_LIQUIDITY),  # no liquid array left
        (DLMM_PROGRAM, 6005, FailureKind.TRANSACTION_FAILED),
        # The same number from another program means something else.
        (MEMO_PROGRAM, 6005, FailureKind.TRANSACTION_FAILED),
    ],
)
def test_each_program_code_maps_to_its_kind(program: Pubkey, code: int, kind: FailureKind) -> None:
    assert failure_kind(custom(code), program) is kind


def test_errors_without_a_program_code_are_transaction_failures() -> None:
    assert failure_kind(TxErr("InsufficientFundsForFee"), None) is FailureKind.TRANSACTION_FAILED
    not_custom = TxErr("InstructionError", 2, "InvalidAccountData")
    assert failure_kind(not_custom, CPSWAP_PROGRAM) is FailureKind.TRANSACTION_FAILED


def test_message_names_the_kind_the_code_and_the_venue() -> None:
    err = custom(6036, index=4)

    text = describe(err, WHIRLPOOL_PROGRAM, failure_kind(err, WHIRLPOOL_PROGRAM))

    assert text == "SlippageToleranceExceeded: Custom 6036 in instruction 4 (orca)"


@given(
    st.integers(min_value=0, max_value=10**18),
    st.lists(st.integers(min_value=1, max_value=10**18), min_size=1, max_size=5),
)
def test_split_minimums_cover_the_route_minimum_and_keep_its_proportion(
    minimum: int, outputs: list[int]
) -> None:
    shares = split_minimum(minimum, outputs)

    assert sum(shares) >= minimum
    assert sum(shares) < minimum + len(outputs)
    # Each leg tolerates the same relative slippage, to a unit: share / output ~ min / total.
    total = sum(outputs)
    for share, out in zip(shares, outputs, strict=True):
        assert share * total >= minimum * out > (share - 1) * total


def _transaction(height: int | None = None, wire: bytes | None = None) -> Transaction:
    swap = SwapInstruction("orca", "pool", "in", "out", None)
    return Transaction(
        "sig", "memo", "payer", "in", "out", (swap,), 5, "hash", 42, False, True, height, wire
    )


def test_transaction_json_keeps_the_signed_bytes_and_block_height() -> None:
    tx = _transaction(1_234, bytes(range(256)))

    data = tx.to_json()

    assert data["lastValidBlockHeight"] == 1_234
    assert Transaction.from_json(data) == tx


def test_transaction_stored_without_chain_fields_reads_back_unchanged() -> None:
    tx = _transaction()

    data = tx.to_json()

    assert "wire" not in data
    assert "lastValidBlockHeight" not in data
    assert Transaction.from_json(data) == tx

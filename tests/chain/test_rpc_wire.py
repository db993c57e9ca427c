"""The server's wire forms: transaction errors as the runtime serializes them, base58, filters."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.rpc.responses import (
    RpcResponseContext,
    RpcSimulateTransactionResult,
    SimulateTransactionResp,
)
from solders.transaction_status import (
    InstructionErrorCustom,
    InstructionErrorFieldless,
    TransactionErrorDuplicateInstruction,
    TransactionErrorFieldless,
    TransactionErrorInstructionError,
    TransactionErrorInsufficientFundsForRent,
    TransactionErrorType,
)

from eterna.adapters.localchain.results import TxError
from eterna.adapters.localchain.rpc_params import RpcFault, b58decode, memcmp_bytes, pubkey
from eterna.adapters.localchain.rpc_pubsub import program_filter
from eterna.adapters.localchain.rpc_wire import (
    tx_err_display,
    tx_err_json,
    tx_error_json,
    ui_amount_string,
)
from eterna.adapters.solana.ids import TOKEN_PROGRAM

ERRORS: list[TransactionErrorType] = [
    TransactionErrorInstructionError(2, InstructionErrorCustom(6001)),
    TransactionErrorInstructionError(0, InstructionErrorFieldless.InvalidAccountData),
    TransactionErrorFieldless.BlockhashNotFound,
    TransactionErrorFieldless.AlreadyProcessed,
    TransactionErrorInsufficientFundsForRent(3),
    TransactionErrorDuplicateInstruction(4),
]


def _solders_json(err: TransactionErrorType) -> Any:
    result = RpcSimulateTransactionResult(err, [], None, 0, None)
    resp = SimulateTransactionResp(result, RpcResponseContext(1))  # type: ignore[call-arg]
    return orjson.loads(resp.to_json())["result"]["value"]["err"]


@pytest.mark.parametrize("err", ERRORS, ids=str)
def test_transaction_errors_serialize_as_solders_does(err: TransactionErrorType) -> None:
    assert tx_err_json(err) == _solders_json(err)


@pytest.mark.parametrize("err", ERRORS, ids=str)
def test_a_recorded_error_serializes_as_the_runtime_error_it_came_from(
    err: TransactionErrorType,
) -> None:
    index = (
        getattr(err, "index", None) if isinstance(err, TransactionErrorInstructionError) else None
    )
    inner = err.err if isinstance(err, TransactionErrorInstructionError) else None
    code = inner.code if isinstance(inner, InstructionErrorCustom) else None
    recorded = TxError(message=str(err), instruction_index=index, custom_code=code)
    assert tx_error_json(recorded) == _solders_json(err)


def test_errors_display_as_the_runtime_prints_them() -> None:
    assert tx_err_display("BlockhashNotFound") == "Blockhash not found"
    assert tx_err_display({"InstructionError": [2, {"Custom": 6005}]}) == (
        "Error processing Instruction 2: custom program error: 0x1775"
    )
    assert tx_err_display({"InstructionError": [1, "InvalidAccountData"]}) == (
        "Error processing Instruction 1: invalid account data"
    )


@given(st.binary(min_size=0, max_size=64))
def test_base58_decodes_what_solders_encodes(data: bytes) -> None:
    if len(data) == 32:
        assert b58decode(str(Pubkey.from_bytes(data))) == data
    text = _b58encode(data)
    assert b58decode(text) == data


def _b58encode(data: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def test_addresses_are_refused_with_the_nodes_messages() -> None:
    with pytest.raises(RpcFault, match="Invalid param: Invalid"):
        pubkey("0OIl")  # none of them is base58
    with pytest.raises(RpcFault, match="Invalid param: WrongSize"):
        pubkey("abc")
    assert pubkey(str(TOKEN_PROGRAM)) == TOKEN_PROGRAM


def test_program_filters_keep_only_matching_accounts() -> None:
    owner = Keypair().pubkey()
    data = b"\x00" * 8 + bytes(owner) + b"\x01" * 10
    keep = program_filter([{"dataSize": len(data)}, {"memcmp": {"offset": 8, "bytes": str(owner)}}])
    assert keep(Account(1, data, TOKEN_PROGRAM))
    assert not keep(Account(1, data + b"\x00", TOKEN_PROGRAM))
    other = b"\x00" * 8 + bytes(Keypair().pubkey()) + b"\x01" * 10
    assert not keep(Account(1, other, TOKEN_PROGRAM))
    assert memcmp_bytes({"bytes": "AQI=", "encoding": "base64"}) == b"\x01\x02"
    with pytest.raises(RpcFault):
        program_filter([{"memcmp": {"offset": 0}}])


@pytest.mark.parametrize(
    ("amount", "decimals", "text"),
    [(0, 6, "0"), (1_500_000, 6, "1.5"), (10_000_000, 6, "10"), (7, 9, "0.000000007"), (5, 0, "5")],
)
def test_ui_amounts_are_exact_decimal_strings(amount: int, decimals: int, text: str) -> None:
    assert ui_amount_string(amount, decimals) == text

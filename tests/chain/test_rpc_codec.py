"""The JSON-RPC wire shapes decode into typed values, and malformed answers into typed errors.

The wire samples are written the way a Solana node sends them; where solders can serialize a
response, its JSON is the sample, so the decoder is checked against an independent encoder.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.rpc.responses import (
    GetAccountInfoResp,
    GetMultipleAccountsResp,
    RpcResponseContext,
    RpcSimulateTransactionResult,
    SimulateTransactionResp,
)
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction
from solders.transaction_status import (
    InstructionErrorCustom,
    InstructionErrorFieldless,
    TransactionErrorFieldless,
    TransactionErrorInstructionError,
    TransactionErrorInsufficientFundsForRent,
    TransactionErrorType,
)

from eterna.adapters.solana import rpc_codec as codec
from eterna.adapters.solana.ids import TOKEN_PROGRAM, USDC_MINT
from eterna.adapters.solana.rpc import DataSizeFilter, MemcmpFilter, TxErr
from eterna.adapters.solana.rpc_errors import (
    AlreadyProcessedError,
    BlockhashNotFoundError,
    InvalidParamsError,
    InvalidResponseError,
    MethodNotFoundError,
    NodeUnhealthyError,
    PreflightFailureError,
    RpcError,
    SignatureVerificationError,
)
from eterna.domain.errors import TransientError, VenueUnavailableError


def _result(response_json: str) -> Any:
    return orjson.loads(response_json)["result"]


def test_account_info_decodes_from_a_solders_response() -> None:
    account = Account(1_461_600, b"\x01\x02\x03", TOKEN_PROGRAM, executable=False, rent_epoch=7)
    wire = _result(GetAccountInfoResp(account, RpcResponseContext(42)).to_json())
    decoded = codec.decode_context(wire, codec.decode_account)
    assert decoded.slot == 42
    assert decoded.value is not None
    assert decoded.value.data == b"\x01\x02\x03"
    assert decoded.value.owner == TOKEN_PROGRAM
    assert decoded.value.lamports == 1_461_600
    assert decoded.value.rent_epoch == 7


def test_multiple_accounts_keep_order_and_missing_ones() -> None:
    account = Account(5, b"x", TOKEN_PROGRAM)
    wire = _result(GetMultipleAccountsResp([None, account], RpcResponseContext(9)).to_json())
    decoded = codec.decode_context(wire, codec.decode_accounts)
    assert decoded.value[0] is None
    assert decoded.value[1] is not None
    assert decoded.value[1].data == b"x"


def _simulation_err(err: TransactionErrorType) -> Any:
    result = RpcSimulateTransactionResult(err, ["log"], None, 12, None)
    # The stub lists value only; the constructor takes the context too.
    resp = SimulateTransactionResp(result, RpcResponseContext(1))  # type: ignore[call-arg]
    return _result(resp.to_json())["value"]


@pytest.mark.parametrize(
    ("err", "expected"),
    [
        (
            TransactionErrorInstructionError(2, InstructionErrorCustom(6001)),
            TxErr("InstructionError", 2, "Custom", 6001),
        ),
        (
            TransactionErrorInstructionError(1, InstructionErrorFieldless.InvalidAccountData),
            TxErr("InstructionError", 1, "InvalidAccountData"),
        ),
        (TransactionErrorFieldless.BlockhashNotFound, TxErr("BlockhashNotFound")),
        (TransactionErrorInsufficientFundsForRent(3), TxErr("InsufficientFundsForRent")),
    ],
)
def test_transaction_errors_decode_into_kind_index_and_code(
    err: TransactionErrorType, expected: TxErr
) -> None:
    simulation = codec.decode_simulation(_simulation_err(err))
    assert simulation.err is not None
    got = simulation.err
    assert (got.kind, got.instruction_index, got.instruction_error, got.custom_code) == (
        expected.kind,
        expected.instruction_index,
        expected.instruction_error,
        expected.custom_code,
    )
    assert simulation.units_consumed == 12
    assert simulation.logs == ("log",)


def _preflight(err: Any) -> dict[str, Any]:
    data = {"err": err, "logs": [], "accounts": None, "unitsConsumed": 0, "returnData": None}
    return {"code": -32002, "message": "Transaction simulation failed: x", "data": data}


def test_preflight_failures_get_their_own_classes() -> None:
    expired = codec.decode_error(_preflight("BlockhashNotFound"))
    assert isinstance(expired, BlockhashNotFoundError)
    assert isinstance(expired, TransientError)
    assert isinstance(codec.decode_error(_preflight("AlreadyProcessed")), AlreadyProcessedError)
    slippage = codec.decode_error(_preflight({"InstructionError": [3, {"Custom": 6022}]}))
    assert type(slippage) is PreflightFailureError
    assert slippage.simulation is not None
    assert slippage.simulation.err == TxErr(
        "InstructionError", 3, "Custom", 6022, {"InstructionError": [3, {"Custom": 6022}]}
    )


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (-32601, MethodNotFoundError),
        (-32602, InvalidParamsError),
        (-32003, SignatureVerificationError),
        (-32005, NodeUnhealthyError),
        (-32099, RpcError),
    ],
)
def test_error_codes_map_to_classes(code: int, cls: type[RpcError]) -> None:
    error = codec.decode_error({"code": code, "message": "m", "data": None})
    assert type(error) is cls
    assert isinstance(error, RpcError)
    assert error.code == code


def test_node_unhealthy_is_transient_and_unavailable() -> None:
    error = codec.decode_error({"code": -32005, "message": "Node is unhealthy"})
    assert isinstance(error, VenueUnavailableError)


def test_a_malformed_error_object_is_an_invalid_response() -> None:
    assert isinstance(codec.decode_error({"message": "no code"}), InvalidResponseError)


def test_a_malformed_result_is_an_invalid_response_not_a_key_error() -> None:
    with pytest.raises(InvalidResponseError):
        codec.decoding(
            "getAccountInfo", lambda r: codec.decode_context(r, codec.decode_account), {}
        )


def test_account_data_in_another_encoding_is_refused() -> None:
    raw = {"data": ["abc", "base58"], "lamports": 1, "owner": str(TOKEN_PROGRAM)}
    with pytest.raises(InvalidResponseError):
        codec.decoding("getAccountInfo", codec.decode_account, {**raw, "executable": False})


def test_transaction_record_resolves_token_balances_to_account_keys() -> None:
    payer = Keypair()
    other = Pubkey.new_unique()
    blockhash = Hash.new_unique()
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=other, lamports=1))
    tx = Transaction(
        [payer], Message.new_with_blockhash([ix], payer.pubkey(), blockhash), blockhash
    )

    def balance(amount: str) -> dict[str, Any]:
        return {
            "accountIndex": 1,
            "mint": str(USDC_MINT),
            "owner": str(payer.pubkey()),
            "programId": str(TOKEN_PROGRAM),
            "uiTokenAmount": {"amount": amount, "decimals": 6, "uiAmount": None},
        }

    raw = {
        "slot": 7,
        "blockTime": 1_767_225_600,
        "transaction": [base64.b64encode(bytes(tx)).decode(), "base64"],
        "meta": {
            "err": None,
            "fee": 5000,
            "preBalances": [100, 0, 1],
            "postBalances": [94_999, 1, 1],
            "preTokenBalances": [balance("10")],
            "postTokenBalances": [balance("25")],
            "logMessages": ["Program log: hi"],
            "computeUnitsConsumed": 150,
        },
    }
    record = codec.decode_transaction(raw, Signature.default())
    assert record is not None
    assert record.account_keys[1] == other
    assert record.token_change(other) == 15
    assert record.lamport_change(payer.pubkey()) == 94_899
    assert record.block_datetime is not None
    assert record.block_datetime.year == 2026


def test_filters_encode_in_the_wire_form() -> None:
    assert codec.encode_filter(DataSizeFilter(165)) == {"dataSize": 165}
    memcmp = codec.encode_filter(MemcmpFilter(8, b"\x01\x02"))
    assert memcmp == {"memcmp": {"offset": 8, "bytes": "AQI=", "encoding": "base64"}}

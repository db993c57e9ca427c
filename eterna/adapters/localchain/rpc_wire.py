"""The local node's values in the JSON shapes a Solana node answers with.

The inverse of :mod:`eterna.adapters.solana.rpc_codec`: accounts with base64 data,
transaction errors as the runtime serializes them (``"BlockhashNotFound"``,
``{"InstructionError": [2, {"Custom": 6001}]}``), their messages as the runtime displays them,
statuses, simulation results and ``getTransaction`` records.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from typing import Any

from solders.account import Account
from solders.transaction_status import (
    InstructionErrorCustom,
    TransactionErrorDuplicateInstruction,
    TransactionErrorFieldless,
    TransactionErrorInstructionError,
    TransactionErrorInsufficientFundsForRent,
    TransactionErrorProgramExecutionTemporarilyRestricted,
    TransactionErrorType,
)

from eterna.adapters.localchain.results import TxError

# How the runtime displays the transaction errors a swap meets (TransactionError's Display).
_DISPLAY = {
    "BlockhashNotFound": "Blockhash not found",
    "AlreadyProcessed": "This transaction has already been processed",
    "AccountNotFound": ("Attempt to debit an account but found no record of a prior credit."),
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "SignatureFailure": "Transaction did not pass signature verification",
    "AccountInUse": "Account in use",
}
_FIELDLESS_INSTRUCTION = re.compile(r"Fieldless\((\w+)\)")
_ACCOUNT_INDEX = re.compile(r"^TransactionError(\w+) \{ account_index: (\d+) \}$")
_TUPLE_VARIANT = re.compile(r"^TransactionError(\w+)\((\d+)\)$")
_FIELDLESS = re.compile(r"^(?:TransactionErrorFieldless\.)?(\w+)$")


def account_json(account: Account) -> dict[str, Any]:
    """Return an account as getAccountInfo's value in base64 encoding."""
    data = account.data
    return {
        "data": [base64.b64encode(data).decode("ascii"), "base64"],
        "executable": account.executable,
        "lamports": account.lamports,
        "owner": str(account.owner),
        "rentEpoch": account.rent_epoch,
        "space": len(data),
    }


def tx_err_json(err: TransactionErrorType) -> Any:
    """Return a runtime TransactionError in its JSON form."""
    if isinstance(err, TransactionErrorInstructionError):
        inner = err.err
        detail: Any = (
            {"Custom": inner.code}
            if isinstance(inner, InstructionErrorCustom)
            else _variant(str(inner))
        )
        return {"InstructionError": [err.index, detail]}
    if isinstance(
        err,
        TransactionErrorInsufficientFundsForRent
        | TransactionErrorProgramExecutionTemporarilyRestricted,
    ):
        name = type(err).__name__.removeprefix("TransactionError")
        return {name: {"account_index": err.account_index}}
    if isinstance(err, TransactionErrorDuplicateInstruction):
        return {"DuplicateInstruction": err.index}
    if isinstance(err, TransactionErrorFieldless):
        return _variant(str(err))
    raise TypeError(f"not a transaction error: {err!r}")


def tx_error_json(error: TxError) -> Any:
    """Return the JSON form of a recorded error (its message is the runtime error's text)."""
    if error.instruction_index is not None:
        if error.custom_code is not None:
            detail: Any = {"Custom": error.custom_code}
        else:
            match = _FIELDLESS_INSTRUCTION.search(error.message)
            detail = match.group(1) if match else "GenericError"
        return {"InstructionError": [error.instruction_index, detail]}
    if match := _ACCOUNT_INDEX.match(error.message):
        return {match.group(1): {"account_index": int(match.group(2))}}
    if match := _TUPLE_VARIANT.match(error.message):
        return {match.group(1): int(match.group(2))}
    if match := _FIELDLESS.match(error.message):
        return match.group(1)
    return error.message


def tx_err_display(err: Any) -> str:
    """Return how the runtime displays an error given in its JSON form."""
    if isinstance(err, str):
        return _DISPLAY.get(err, _words(err))
    ((kind, payload),) = err.items()
    if kind != "InstructionError":
        return _words(kind)
    index, detail = payload
    if isinstance(detail, dict) and "Custom" in detail:
        text = f"custom program error: {detail['Custom']:#x}"
    else:
        text = _words(str(detail)).lower()
    return f"Error processing Instruction {index}: {text}"


def _variant(text: str) -> str:
    """Return the variant name at the end of an enum's text (``Enum.Variant`` -> Variant)."""
    return text.rsplit(".", 1)[-1]


def _words(name: str) -> str:
    """Return a CamelCase variant as words (``InvalidAccountData`` -> Invalid account data)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return spaced[:1].upper() + spaced[1:].lower()


def ui_amount_string(amount: int, decimals: int) -> str:
    """Return base units as the token amount a node prints (trailing zeros trimmed)."""
    text = format(Decimal(amount).scaleb(-decimals), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text

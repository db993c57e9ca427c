"""The wire shapes of a Solana node's JSON-RPC: request configs in, typed values out.

Every client of :class:`~eterna.adapters.solana.rpc.SolanaRpc` decodes through these
functions, so the HTTP client and the in-process one cannot drift apart. A result that does
not have the documented shape raises :class:`InvalidResponseError`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, TypeVar, cast

from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from eterna.adapters.solana.rpc import (
    AccountInfo,
    AccountUpdate,
    BlockhashInfo,
    Commitment,
    Context,
    DataSizeFilter,
    KeyedAccount,
    PrioritizationFee,
    ProgramFilter,
    SignatureStatus,
    SignedTransaction,
    SimulationResult,
    SlotUpdate,
    TokenBalance,
    TokenTransfer,
    TransactionRecord,
    TxErr,
)
from eterna.adapters.solana.rpc_errors import (
    SEND_TRANSACTION_PREFLIGHT_FAILURE,
    AlreadyProcessedError,
    BlockhashNotFoundError,
    InvalidResponseError,
    PreflightFailureError,
    RpcError,
    rpc_error_class,
)

T = TypeVar("T")

_COMMITMENTS = frozenset({"processed", "confirmed", "finalized"})
_PREFLIGHT_CLASSES: Mapping[str, type[PreflightFailureError]] = {
    "BlockhashNotFound": BlockhashNotFoundError,
    "AlreadyProcessed": AlreadyProcessedError,
}


def config(**items: Any) -> dict[str, Any]:
    """Return a request's config object: camelCase keys given, the None values left out."""
    return {key: value for key, value in items.items() if value is not None}


def encode_transaction(transaction: SignedTransaction) -> str:
    """Return a signed transaction as the base64 a node takes (``encoding: "base64"``)."""
    raw = transaction if isinstance(transaction, bytes) else bytes(transaction)
    return base64.b64encode(raw).decode("ascii")


def encode_filter(item: ProgramFilter) -> dict[str, Any]:
    """Return a program-account filter in its wire form (memcmp bytes in base64)."""
    if isinstance(item, DataSizeFilter):
        return {"dataSize": item.size}
    return {
        "memcmp": {
            "offset": item.offset,
            "bytes": base64.b64encode(item.bytes_).decode("ascii"),
            "encoding": "base64",
        }
    }


def decoding(what: str, decode: Callable[[Any], T], raw: Any) -> T:
    """Return decode(raw), turning a shape mismatch into InvalidResponseError."""
    try:
        return decode(raw)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise InvalidResponseError(f"{what}: unexpected answer {str(raw)[:200]!r}") from exc


@lru_cache(maxsize=4096)
def pubkey(text: str) -> Pubkey:
    """Return the Pubkey of a base58 address (cached: owners and mints repeat)."""
    return Pubkey.from_string(text)


def decode_context(result: Any, decode_value: Callable[[Any], T]) -> Context[T]:
    """Decode a ``{context: {slot}, value}`` wrapper."""
    return Context(slot=int(result["context"]["slot"]), value=decode_value(result["value"]))


def decode_account(raw: Any) -> AccountInfo | None:
    """Decode an account in base64 encoding (None stays None)."""
    if raw is None:
        return None
    data, encoding = raw["data"]
    if encoding != "base64":
        raise ValueError(f"account data in {encoding}, asked for base64")
    decoded = base64.b64decode(data)
    space = raw.get("space")  # absent from older nodes' answers
    return AccountInfo(
        lamports=int(raw["lamports"]),
        owner=pubkey(raw["owner"]),
        data=decoded,
        executable=bool(raw["executable"]),
        rent_epoch=int(raw["rentEpoch"]),
        space=len(decoded) if space is None else int(space),
    )


def decode_accounts(raw: Any) -> list[AccountInfo | None]:
    """Decode getMultipleAccounts' value: one account or None per address."""
    return [decode_account(item) for item in raw]


def decode_keyed_accounts(raw: Any) -> list[KeyedAccount]:
    """Decode getProgramAccounts' value: ``{pubkey, account}`` per account."""
    found = []
    for item in raw:
        account = decode_account(item["account"])
        if account is None:
            raise ValueError("getProgramAccounts listed an account without its data")
        found.append(KeyedAccount(pubkey(item["pubkey"]), account))
    return found


def decode_tx_err(raw: Any) -> TxErr | None:
    """Decode a TransactionError: a variant name, or ``{variant: payload}``."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return TxErr(kind=raw, raw=raw)
    ((kind, payload),) = raw.items()
    if kind != "InstructionError":
        return TxErr(kind=kind, raw=raw)
    index, error = payload
    if isinstance(error, str):
        return TxErr(kind, instruction_index=int(index), instruction_error=error, raw=raw)
    ((name, detail),) = error.items()
    code = int(detail) if name == "Custom" else None
    return TxErr(kind, int(index), instruction_error=name, custom_code=code, raw=raw)


def decode_blockhash(raw: Any) -> BlockhashInfo:
    """Decode getLatestBlockhash's value."""
    return BlockhashInfo(
        blockhash=Hash.from_string(raw["blockhash"]),
        last_valid_block_height=int(raw["lastValidBlockHeight"]),
    )


def decode_simulation(raw: Any) -> SimulationResult:
    """Decode a simulation result (simulateTransaction's value, a preflight error's data)."""
    units = raw.get("unitsConsumed")
    return SimulationResult(
        err=decode_tx_err(raw.get("err")),
        logs=tuple(raw.get("logs") or ()),
        units_consumed=None if units is None else int(units),
        transfers=decode_transfers(raw.get("innerInstructions")),
    )


# Parsed token instructions that move tokens from one account to another.
_TRANSFERS = frozenset({"transfer", "transferChecked"})
_TOKEN_PARSERS = frozenset({"spl-token", "spl-token-2022"})


def decode_transfers(raw: Any) -> tuple[TokenTransfer, ...]:
    """Decode the token transfers among a simulation's inner instructions (jsonParsed form).

    A node parses the inner instructions of the programs it knows (the token programs
    among them) and leaves the others partially decoded, which carry no ``parsed``.
    """
    found: list[TokenTransfer] = []
    for group in raw or ():
        index = int(group["index"])
        for item in group["instructions"]:
            parsed = item.get("parsed")
            if item.get("program") not in _TOKEN_PARSERS or not isinstance(parsed, dict):
                continue
            if parsed.get("type") not in _TRANSFERS:
                continue
            info = parsed["info"]
            amount = info["amount"] if "amount" in info else info["tokenAmount"]["amount"]
            found.append(
                TokenTransfer(
                    instruction_index=index,
                    source=Pubkey.from_string(info["source"]),
                    destination=Pubkey.from_string(info["destination"]),
                    amount=int(amount),
                )
            )
    return tuple(found)


def decode_prioritization_fees(raw: Any) -> list[PrioritizationFee]:
    """Decode getRecentPrioritizationFees' result."""
    return [
        PrioritizationFee(slot=int(item["slot"]), fee=int(item["prioritizationFee"]))
        for item in raw
    ]


def decode_status(raw: Any) -> SignatureStatus | None:
    """Decode one entry of getSignatureStatuses (None: not processed)."""
    if raw is None:
        return None
    confirmations = raw.get("confirmations")
    level = raw.get("confirmationStatus")
    if level is not None and level not in _COMMITMENTS:
        raise ValueError(f"confirmationStatus {level!r}")
    return SignatureStatus(
        slot=int(raw["slot"]),
        confirmations=None if confirmations is None else int(confirmations),
        err=decode_tx_err(raw.get("err")),
        confirmation_status=cast("Commitment | None", level),
    )


def decode_statuses(raw: Any) -> list[SignatureStatus | None]:
    """Decode getSignatureStatuses' value."""
    return [decode_status(item) for item in raw]


def _token_balances(raw: Any, keys: tuple[Pubkey, ...]) -> tuple[TokenBalance, ...]:
    balances = []
    for item in raw or ():
        index = int(item["accountIndex"])
        owner, program = item.get("owner"), item.get("programId")
        balances.append(
            TokenBalance(
                account_index=index,
                account=keys[index],
                mint=pubkey(item["mint"]),
                owner=None if owner is None else pubkey(owner),
                program_id=None if program is None else pubkey(program),
                amount=int(item["uiTokenAmount"]["amount"]),
                decimals=int(item["uiTokenAmount"]["decimals"]),
            )
        )
    return tuple(balances)


def _account_keys(raw_tx: Any, meta: Any) -> tuple[Pubkey, ...]:
    data, encoding = raw_tx
    if encoding != "base64":
        raise ValueError(f"transaction in {encoding}, asked for base64")
    message = VersionedTransaction.from_bytes(base64.b64decode(data)).message
    loaded = meta.get("loadedAddresses") or {}
    extra = [*loaded.get("writable", ()), *loaded.get("readonly", ())]
    return (*message.account_keys, *(pubkey(k) for k in extra))


def decode_transaction(raw: Any, signature: Signature) -> TransactionRecord | None:
    """Decode getTransaction's result in base64 encoding (None: not found)."""
    if raw is None:
        return None
    meta = raw["meta"]
    keys = _account_keys(raw["transaction"], meta)
    units = meta.get("computeUnitsConsumed")
    block_time = raw.get("blockTime")
    return TransactionRecord(
        signature=signature,
        slot=int(raw["slot"]),
        block_time=None if block_time is None else int(block_time),
        fee=int(meta["fee"]),
        err=decode_tx_err(meta.get("err")),
        compute_units_consumed=None if units is None else int(units),
        log_messages=tuple(meta.get("logMessages") or ()),
        account_keys=keys,
        pre_balances=tuple(int(b) for b in meta["preBalances"]),
        post_balances=tuple(int(b) for b in meta["postBalances"]),
        pre_token_balances=_token_balances(meta.get("preTokenBalances"), keys),
        post_token_balances=_token_balances(meta.get("postTokenBalances"), keys),
    )


def decode_account_notification(raw: Any, address: Pubkey) -> AccountUpdate:
    """Decode an accountNotification's result for the subscribed address."""
    account = decode_account(raw["value"])
    if account is None:
        raise ValueError("an account notification without an account")
    return AccountUpdate(address=address, slot=int(raw["context"]["slot"]), account=account)


def decode_program_notification(raw: Any) -> AccountUpdate:
    """Decode a programNotification's result (a keyed account)."""
    value = raw["value"]
    account = decode_account(value["account"])
    if account is None:
        raise ValueError("a program notification without an account")
    return AccountUpdate(
        address=pubkey(value["pubkey"]), slot=int(raw["context"]["slot"]), account=account
    )


def decode_slot_notification(raw: Any) -> SlotUpdate:
    """Decode a slotNotification's result."""
    return SlotUpdate(slot=int(raw["slot"]), parent=int(raw["parent"]), root=int(raw["root"]))


def decode_error(raw: Any) -> RpcError | InvalidResponseError:
    """Return the typed error of a JSON-RPC error object ``{code, message, data}``."""
    try:
        code, message, data = int(raw["code"]), str(raw["message"]), raw.get("data")
    except (KeyError, TypeError, ValueError):
        return InvalidResponseError(f"a malformed error object {str(raw)[:200]!r}")
    if code != SEND_TRANSACTION_PREFLIGHT_FAILURE:
        return rpc_error_class(code)(code, message, data)
    simulation = (
        decoding("preflight failure", decode_simulation, data) if isinstance(data, dict) else None
    )
    kind = None if simulation is None or simulation.err is None else simulation.err.kind
    error_class = _PREFLIGHT_CLASSES.get(kind or "", PreflightFailureError)
    return error_class(code, message, data, simulation)

"""sendTransaction and simulateTransaction over the local node, as a Solana node runs them.

simulateTransaction with ``innerInstructions`` lists the instructions each instruction
invoked, the token transfers parsed (:mod:`.rpc_inner`).

sendTransaction without ``skipPreflight`` first checks the signatures (-32003), then
simulates on the current state: a transaction that would fail - a stale blockhash, a
signature processed already, a program error such as a minimum out not met - is answered
with -32002 and the simulation's error, logs and units, and is not sent. With
``skipPreflight`` the node takes it unchecked and answers its signature; one with a bad
signature or a stale blockhash is then dropped, never landing, as a leader drops it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from solders.transaction import VersionedTransaction

from eterna.adapters.localchain import rpc_params as p
from eterna.adapters.localchain.lookups import transaction_keys
from eterna.adapters.localchain.node import (
    BlockhashNotFoundError,
    LocalNode,
    SignatureVerificationError,
    check_signatures,
)
from eterna.adapters.localchain.rpc_inner import inner_instructions_json
from eterna.adapters.localchain.rpc_params import RpcFault
from eterna.adapters.localchain.rpc_wire import tx_err_display, tx_error_json
from eterna.adapters.localchain.simulation import Simulation
from eterna.adapters.solana.rpc_errors import (
    SEND_TRANSACTION_PREFLIGHT_FAILURE,
    TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
)

_SEND_CONFIG = frozenset(
    {"encoding", "skipPreflight", "preflightCommitment", "maxRetries", "minContextSlot"}
)
_SIMULATE_CONFIG = frozenset(
    {
        "encoding",
        "sigVerify",
        "replaceRecentBlockhash",
        "commitment",
        "minContextSlot",
        "innerInstructions",
    }
)


def send_transaction(node: LocalNode, params: Any) -> str:
    """Answer sendTransaction: the signature, or the preflight's refusal."""
    raw, config_raw = p.positional(params, 1, 2)
    config = p.options(config_raw, _SEND_CONFIG)
    p.commitment({"commitment": config.get("preflightCommitment", "finalized")})
    tx = _sanitized(p.transaction(raw, config))
    signature = str(tx.signatures[0])
    if config.get("skipPreflight"):
        # Taken unchecked: a bad one is dropped by the leader, and never lands.
        with contextlib.suppress(SignatureVerificationError, BlockhashNotFoundError):
            node.send_transaction(tx)
        return signature
    _preflight(node, tx)
    try:
        node.send_transaction(tx)
    except BlockhashNotFoundError:
        # The slot moved on between the preflight and the send: the same refusal.
        raise _preflight_failure({**_empty(), "err": "BlockhashNotFound"}) from None
    return signature


def simulate_transaction(node: LocalNode, params: Any) -> dict[str, Any]:
    """Answer simulateTransaction: what the transaction would do now."""
    raw, config_raw = p.positional(params, 1, 2)
    config = p.options(config_raw, _SIMULATE_CONFIG)
    p.commitment(config)
    tx = _sanitized(p.transaction(raw, config))
    sig_verify = bool(config.get("sigVerify", False))
    replace = bool(config.get("replaceRecentBlockhash", False))
    if sig_verify and replace:
        raise p.invalid("sigVerify may not be used with replaceRecentBlockhash")
    if sig_verify:
        _verify(tx)
    simulation = node.simulate_transaction(tx, replace_recent_blockhash=replace)
    value = _json(simulation)
    if config.get("innerInstructions"):
        keys = transaction_keys(node.chain.account, tx)
        value["innerInstructions"] = inner_instructions_json(simulation.inner_instructions, keys)
    return {"context": {"apiVersion": "2.2.0", "slot": simulation.slot}, "value": value}


def _sanitized(tx: VersionedTransaction) -> VersionedTransaction:
    try:
        tx.sanitize()
    except Exception as exc:  # solders raises its own error type for a malformed message
        raise p.invalid(f"invalid transaction: {exc}") from None
    return tx


def _verify(tx: VersionedTransaction) -> None:
    try:
        check_signatures(tx)
    except SignatureVerificationError:
        raise RpcFault(
            TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
            "Transaction signature verification failure",
        ) from None


def _preflight(node: LocalNode, tx: VersionedTransaction) -> None:
    _verify(tx)
    if node.transaction(tx.signatures[0]) is not None:
        raise _preflight_failure({**_empty(), "err": "AlreadyProcessed"})
    simulation = node.simulate_transaction(tx)
    if simulation.error is not None:
        raise _preflight_failure(_json(simulation))


def _empty() -> dict[str, Any]:
    return {
        "err": None,
        "logs": [],
        "accounts": None,
        "unitsConsumed": 0,
        "returnData": None,
        "innerInstructions": None,
        "replacementBlockhash": None,
    }


def _preflight_failure(data: dict[str, Any]) -> RpcFault:
    return RpcFault(
        SEND_TRANSACTION_PREFLIGHT_FAILURE,
        f"Transaction simulation failed: {tx_err_display(data['err'])}",
        data,
    )


def _json(simulation: Simulation) -> dict[str, Any]:
    replacement = simulation.replacement_blockhash
    return {
        **_empty(),
        "err": None if simulation.error is None else tx_error_json(simulation.error),
        "logs": list(simulation.logs),
        "unitsConsumed": simulation.units_consumed,
        "replacementBlockhash": None
        if replacement is None
        else {
            "blockhash": str(replacement.blockhash),
            "lastValidBlockHeight": replacement.last_valid_block_height,
        },
    }

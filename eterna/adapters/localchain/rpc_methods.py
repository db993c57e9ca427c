"""The local node's JSON-RPC methods: params in, the results a Solana node answers with.

:func:`method_table` maps each method name to a handler taking the raw params. The node
has one fork and commits at once, so every commitment reads the latest state; what differs
by commitment is what a cluster makes visible: ``getTransaction`` at ``finalized`` (its
default) answers null until the transaction is 32 slots deep, as on a cluster, and refuses
``processed``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from solders.message import MessageV0
from solders.pubkey import Pubkey

from eterna.adapters.localchain import rpc_params as p
from eterna.adapters.localchain.ledger import LedgerEntry
from eterna.adapters.localchain.node import LocalNode, SignatureState
from eterna.adapters.localchain.results import TokenBalance
from eterna.adapters.localchain.rpc_dispatch import Handler
from eterna.adapters.localchain.rpc_params import RpcFault
from eterna.adapters.localchain.rpc_pubsub import program_filter
from eterna.adapters.localchain.rpc_send import send_transaction, simulate_transaction
from eterna.adapters.localchain.rpc_wire import account_json, tx_error_json, ui_amount_string
from eterna.adapters.solana.spl import decode_mint

UNSUPPORTED_TRANSACTION_VERSION = -32015
# A node answers getRecentPrioritizationFees for at most 128 accounts.
MAX_PRIORITIZATION_FEE_ACCOUNTS = 128
_COMMITMENT = frozenset({"commitment", "minContextSlot"})
_ACCOUNT_CONFIG = _COMMITMENT | {"encoding", "dataSlice"}
_PROGRAM_ACCOUNTS_CONFIG = _ACCOUNT_CONFIG | {"filters", "withContext"}
_TX_CONFIG = _COMMITMENT | {"encoding", "maxSupportedTransactionVersion"}


def method_table(node: LocalNode) -> dict[str, Handler]:
    """Return the JSON-RPC methods served over node, by name."""
    methods = _Methods(node)
    table: dict[str, Callable[[Any], Any]] = {
        "getHealth": methods.get_health,
        "getSlot": methods.get_slot,
        "getBlockHeight": methods.get_block_height,
        "getLatestBlockhash": methods.get_latest_blockhash,
        "getGenesisHash": methods.get_genesis_hash,
        "getRecentPrioritizationFees": methods.get_recent_prioritization_fees,
        "isBlockhashValid": methods.is_blockhash_valid,
        "getAccountInfo": methods.get_account_info,
        "getMultipleAccounts": methods.get_multiple_accounts,
        "getProgramAccounts": methods.get_program_accounts,
        "getBalance": methods.get_balance,
        "getSignatureStatuses": methods.get_signature_statuses,
        "getTransaction": methods.get_transaction,
        "sendTransaction": lambda params: send_transaction(node, params),
        "simulateTransaction": lambda params: simulate_transaction(node, params),
    }
    return {name: _async(handler) for name, handler in table.items()}


def _async(handler: Callable[[Any], Any]) -> Handler:
    async def run(params: Any) -> Any:
        return handler(params)

    return run


def context(node: LocalNode, value: Any) -> dict[str, Any]:
    """Return a value in the ``{context: {slot, apiVersion}, value}`` wrapper."""
    return {"context": {"apiVersion": "2.2.0", "slot": node.slot}, "value": value}


class _Methods:
    """The handlers over one node."""

    def __init__(self, node: LocalNode) -> None:
        self.node = node
        self._mints: dict[Pubkey, tuple[int, str]] = {}

    def get_health(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return "ok"

    def _config_only(self, params: Any) -> dict[str, Any]:
        (raw,) = p.positional(params, 0, 1)
        config = p.options(raw, _COMMITMENT)
        p.commitment(config)
        return config

    def get_slot(self, params: Any) -> int:
        self._config_only(params)
        return self.node.slot

    def get_block_height(self, params: Any) -> int:
        self._config_only(params)
        return self.node.block_height

    def get_latest_blockhash(self, params: Any) -> dict[str, Any]:
        self._config_only(params)
        recent = self.node.latest_blockhash()
        value = {
            "blockhash": str(recent.blockhash),
            "lastValidBlockHeight": recent.last_valid_block_height,
        }
        return context(self.node, value)

    def get_genesis_hash(self, params: Any) -> str:
        p.positional(params, 0, 0)
        return str(self.node.genesis_hash)

    def get_recent_prioritization_fees(self, params: Any) -> list[dict[str, int]]:
        (raw,) = p.positional(params, 0, 1)
        accounts = [] if raw is None else p.pubkeys(raw, MAX_PRIORITIZATION_FEE_ACCOUNTS)
        fees = self.node.prioritization_fees(accounts)
        return [{"slot": slot, "prioritizationFee": fee} for slot, fee in fees]

    def is_blockhash_valid(self, params: Any) -> dict[str, Any]:
        raw, config = p.positional(params, 1, 2)
        p.commitment(p.options(config, _COMMITMENT))
        blockhash = p.blockhash(raw)
        return context(self.node, self.node.is_blockhash_valid(blockhash))

    def get_account_info(self, params: Any) -> dict[str, Any]:
        raw, config = p.positional(params, 1, 2)
        self._account_config(config)
        account = self.node.account(p.pubkey(raw))
        return context(self.node, None if account is None else account_json(account))

    def get_multiple_accounts(self, params: Any) -> dict[str, Any]:
        raw, config = p.positional(params, 1, 2)
        self._account_config(config)
        addresses = p.pubkeys(raw, p.MAX_MULTIPLE_ACCOUNTS)
        accounts = self.node.accounts(addresses)
        return context(self.node, [None if a is None else account_json(a) for a in accounts])

    def get_program_accounts(self, params: Any) -> Any:
        raw, config = p.positional(params, 1, 2)
        options = p.options(config, _PROGRAM_ACCOUNTS_CONFIG)
        self._account_config({k: v for k, v in options.items() if k in _ACCOUNT_CONFIG})
        keep = program_filter(options.get("filters"))
        found = [
            {"pubkey": str(address), "account": account_json(account)}
            for address, account in self.node.program_accounts(p.pubkey(raw))
            if keep(account)
        ]
        return context(self.node, found) if options.get("withContext") else found

    def get_balance(self, params: Any) -> dict[str, Any]:
        raw, config = p.positional(params, 1, 2)
        p.commitment(p.options(config, _COMMITMENT))
        account = self.node.account(p.pubkey(raw))
        return context(self.node, 0 if account is None else account.lamports)

    @staticmethod
    def _account_config(raw: Any) -> None:
        config = p.options(raw, _ACCOUNT_CONFIG)
        p.commitment(config)
        # base58 is a node's default; this one sends base64 only, so it must be asked for.
        p.encoding(config, default="base58")
        if config.get("dataSlice") is not None:
            raise p.invalid("Invalid params: dataSlice is not served here")

    def get_signature_statuses(self, params: Any) -> dict[str, Any]:
        raw, config = p.positional(params, 1, 2)
        p.options(config, frozenset({"searchTransactionHistory"}))
        states = self.node.signature_statuses(p.signatures(raw))
        return context(self.node, [None if s is None else status_json(s) for s in states])

    def get_transaction(self, params: Any) -> dict[str, Any] | None:
        raw, config_raw = p.positional(params, 1, 2)
        signature = p.signature(raw)
        config = p.options(config_raw, _TX_CONFIG)
        level = p.commitment(config)
        if level == "processed":
            raise p.invalid("Method does not support commitment below `confirmed`")
        p.encoding(config, default="json")
        entry = self.node.transaction(signature)
        if entry is None:
            return None
        (state,) = self.node.signature_statuses([signature])
        if level == "finalized" and (state is None or state.confirmation_status != "finalized"):
            return None
        version = 0 if isinstance(entry.transaction.message, MessageV0) else "legacy"
        if version == 0 and config.get("maxSupportedTransactionVersion") is None:
            raise RpcFault(
                UNSUPPORTED_TRANSACTION_VERSION,
                "Transaction version (0) is not supported by the requesting client. Please try "
                "the request again with the following configuration parameter: "
                '"maxSupportedTransactionVersion": 0',
            )
        return self._transaction_json(entry, version)

    def _transaction_json(self, entry: LedgerEntry, version: int | str) -> dict[str, Any]:
        err = None if entry.error is None else tx_error_json(entry.error)
        keys = entry.account_keys
        meta: dict[str, Any] = {
            "err": err,
            "status": {"Ok": None} if err is None else {"Err": err},
            "fee": entry.fee,
            "preBalances": list(entry.pre_balances),
            "postBalances": list(entry.post_balances),
            "innerInstructions": [],
            "logMessages": list(entry.logs),
            "preTokenBalances": self._token_balances(entry.pre_token_balances, keys),
            "postTokenBalances": self._token_balances(entry.post_token_balances, keys),
            "rewards": [],
            "loadedAddresses": {
                "writable": [str(k) for k in entry.loaded.writable],
                "readonly": [str(k) for k in entry.loaded.readonly],
            },
            "computeUnitsConsumed": entry.compute_units,
        }
        return {
            "slot": entry.slot,
            "blockTime": entry.block_time,
            "transaction": [_b64(bytes(entry.transaction)), "base64"],
            "meta": meta,
            "version": version,
        }

    def _token_balances(
        self, balances: Mapping[Pubkey, TokenBalance], keys: list[Pubkey]
    ) -> list[dict[str, Any]]:
        index = {key: i for i, key in enumerate(keys)}
        out: list[dict[str, Any]] = []
        for account, balance in balances.items():
            decimals, program = self._mint(balance.mint)
            amount = balance.amount
            out.append(
                {
                    "accountIndex": index[account],
                    "mint": str(balance.mint),
                    "owner": str(balance.owner),
                    "programId": program,
                    "uiTokenAmount": {
                        "amount": str(amount),
                        "decimals": decimals,
                        # The float uiAmount is deprecated on the wire; the string is exact.
                        "uiAmount": None,
                        "uiAmountString": ui_amount_string(amount, decimals),
                    },
                }
            )
        out.sort(key=lambda item: item["accountIndex"])
        return out

    def _mint(self, mint: Pubkey) -> tuple[int, str]:
        known = self._mints.get(mint)
        if known is None:
            account = self.node.account(mint)
            if account is None:
                return 0, ""
            known = decode_mint(account.data).decimals, str(account.owner)
            self._mints[mint] = known
        return known


def status_json(state: SignatureState) -> dict[str, Any]:
    """Return one entry of getSignatureStatuses."""
    err = None if state.error is None else tx_error_json(state.error)
    return {
        "slot": state.slot,
        "confirmations": state.confirmations,
        "err": err,
        "status": {"Ok": None} if err is None else {"Err": err},
        "confirmationStatus": state.confirmation_status,
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")

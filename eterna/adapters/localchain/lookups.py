"""The accounts a v0 message looks up in address lookup tables, read from the chain.

A v0 message's instructions index one list: its static keys, then every table's writable
lookups (table by table, in the message's order), then every table's read-only lookups.
That is the order of ``loadedAddresses`` in ``getTransaction`` and of the balances a cluster
reports, and what the ledger, the fee cache and the swap reader resolve indexes against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solders.account import Account
from solders.message import Message, MessageV0, MessageV1
from solders.pubkey import Pubkey
from solders.transaction import Transaction, VersionedTransaction

from eterna.adapters.solana.lookup_tables import (
    LOOKUP_TABLE_PROGRAM,
    LookupTableLayoutError,
    decode_lookup_table,
)


@dataclass(frozen=True, slots=True)
class LoadedAddresses:
    """The accounts a message looked up: written ones, then read-only ones."""

    writable: tuple[Pubkey, ...] = ()
    readonly: tuple[Pubkey, ...] = ()

    def __len__(self) -> int:
        return len(self.writable) + len(self.readonly)


NONE_LOADED = LoadedAddresses()


class UnresolvedLookupError(LookupError):
    """A message looks up a table that does not exist, or an index past its end."""


def loaded_addresses(
    read: Callable[[Pubkey], Account | None], message: Message | MessageV0 | MessageV1
) -> LoadedAddresses:
    """Return the accounts the message looks up, as the tables hold them now.

    :raises UnresolvedLookupError: when a table is missing or lacks an index (the runtime
        refuses such a transaction before running it).
    """
    if not isinstance(message, MessageV0) or not message.address_table_lookups:
        return NONE_LOADED
    writable: list[Pubkey] = []
    readonly: list[Pubkey] = []
    for lookup in message.address_table_lookups:
        account = read(lookup.account_key)
        if account is None or account.owner != LOOKUP_TABLE_PROGRAM:
            raise UnresolvedLookupError(f"no lookup table at {lookup.account_key}")
        try:
            addresses = decode_lookup_table(lookup.account_key, account.data).addresses
        except LookupTableLayoutError as exc:
            raise UnresolvedLookupError(str(exc)) from exc
        for indexes, into in (
            (lookup.writable_indexes, writable),
            (lookup.readonly_indexes, readonly),
        ):
            for index in bytes(indexes):
                if index >= len(addresses):
                    raise UnresolvedLookupError(
                        f"lookup table {lookup.account_key} holds no index {index}"
                    )
                into.append(addresses[index])
    return LoadedAddresses(tuple(writable), tuple(readonly))


def try_loaded(
    read: Callable[[Pubkey], Account | None], message: Message | MessageV0 | MessageV1
) -> LoadedAddresses:
    """Return :func:`loaded_addresses`, or none when they cannot be resolved."""
    try:
        return loaded_addresses(read, message)
    except UnresolvedLookupError:
        return NONE_LOADED


def all_keys(message: Message | MessageV0 | MessageV1, loaded: LoadedAddresses) -> list[Pubkey]:
    """Return the keys a message's indexes point into: static, then loaded."""
    return [*message.account_keys, *loaded.writable, *loaded.readonly]


def transaction_keys(
    read: Callable[[Pubkey], Account | None], tx: Transaction | VersionedTransaction
) -> list[Pubkey]:
    """Return every account key of a transaction, looked-up ones resolved when they can be."""
    return all_keys(tx.message, try_loaded(read, tx.message))

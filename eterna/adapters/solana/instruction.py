"""Short names for the account roles an instruction lists, so builders read like the IDL."""

from __future__ import annotations

from solders.instruction import AccountMeta
from solders.pubkey import Pubkey


def readonly(key: Pubkey) -> AccountMeta:
    """Return an account the instruction only reads."""
    return AccountMeta(key, is_signer=False, is_writable=False)


def writable(key: Pubkey) -> AccountMeta:
    """Return an account the instruction may change."""
    return AccountMeta(key, is_signer=False, is_writable=True)


def signer(key: Pubkey, *, mutable: bool = False) -> AccountMeta:
    """Return an account that signs (mutable: it also pays or changes)."""
    return AccountMeta(key, is_signer=True, is_writable=mutable)

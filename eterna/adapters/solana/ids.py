"""Well-known program ids, sysvars and mints, as the mainnet cluster spells them."""

from __future__ import annotations

from typing import Final

from solders.pubkey import Pubkey

from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, USDT, WELL_KNOWN, Token

SYSTEM_PROGRAM: Final = Pubkey.from_string("11111111111111111111111111111111")
TOKEN_PROGRAM: Final = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM: Final = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ASSOCIATED_TOKEN_PROGRAM: Final = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
MEMO_PROGRAM: Final = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
COMPUTE_BUDGET_PROGRAM: Final = Pubkey.from_string("ComputeBudget111111111111111111111111111111")

RENT_SYSVAR: Final = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
CLOCK_SYSVAR: Final = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")

# The DEX programs' mainnet ids; the local chain loads their mainnet builds at these ids.
CPSWAP_PROGRAM: Final = Pubkey.from_string("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C")
WHIRLPOOL_PROGRAM: Final = Pubkey.from_string("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc")
DLMM_PROGRAM: Final = Pubkey.from_string("LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo")

# Wrapped SOL: the SPL Token program's native mint, the same address as the SOL token.
WSOL_MINT: Final = Pubkey.from_string(SOL.mint)
USDC_MINT: Final = Pubkey.from_string(USDC.mint)
USDT_MINT: Final = Pubkey.from_string(USDT.mint)
BONK_MINT: Final = Pubkey.from_string(BONK.mint)
JUP_MINT: Final = Pubkey.from_string(JUP.mint)
RAY_MINT: Final = Pubkey.from_string(RAY.mint)

TOKEN_PROGRAMS: Final = frozenset({TOKEN_PROGRAM, TOKEN_2022_PROGRAM})


def mint_of(token: Token) -> Pubkey:
    """Return the mint address of a token as a Pubkey."""
    return Pubkey.from_string(token.mint)


def well_known_mints() -> dict[Pubkey, Token]:
    """Return the well-known tokens (real mainnet mints and decimals) by mint address."""
    return {mint_of(token): token for token in WELL_KNOWN}

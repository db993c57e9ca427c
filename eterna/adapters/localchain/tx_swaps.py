"""Read a transaction's first swap: which pool, which direction (for an adverse move).

Recognised: CP-Swap ``swap_base_input`` / ``swap_base_output`` (the input mint is account
10), Whirlpool ``swap`` / ``swap_v2`` (the pool is account 2 / 4; ``a_to_b`` is a byte of the
data), DLMM ``swap`` / ``swap2`` (the pool is account 0; the direction is whether the input
account is the user's associated account of X, or holds X). Accounts a v0 message looks up
are read from their lookup tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from solders.message import Message, MessageV0, MessageV1
from solders.pubkey import Pubkey

from eterna.adapters.localchain.lookups import all_keys, try_loaded
from eterna.adapters.localchain.pools import ChainPool
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.anchor import instruction_discriminator
from eterna.adapters.solana.ids import CPSWAP_PROGRAM, DLMM_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.adapters.solana.spl import associated_token_address

_CPSWAP = frozenset(instruction_discriminator(n) for n in ("swap_base_input", "swap_base_output"))
_WHIRLPOOL = {instruction_discriminator("swap"): 2, instruction_discriminator("swap_v2"): 4}
_DLMM = frozenset(instruction_discriminator(n) for n in ("swap", "swap2"))
# discriminator, amount, other amount threshold, sqrt price limit, amount_specified_is_input
_WHIRLPOOL_A_TO_B_AT = 8 + 8 + 8 + 16 + 1
_CPSWAP_INPUT_MINT, _DLMM_TOKEN_IN, _DLMM_USER = 10, 4, 10


@dataclass(frozen=True, slots=True)
class SeenSwap:
    """A swap found in a transaction: the pool it trades on, and its direction."""

    pool: ChainPool
    a_to_b: bool


def first_swap(
    chain: LocalChain, message: Message | MessageV0 | MessageV1, pools: Mapping[Pubkey, ChainPool]
) -> SeenSwap | None:
    """Return the first swap on a known pool in message, or None."""
    keys = all_keys(message, try_loaded(chain.account, message))
    for instruction in message.instructions:
        program = keys[instruction.program_id_index]
        data = bytes(instruction.data)
        # An index no table resolves (the transaction cannot load) names no account.
        accounts = [keys[i] if i < len(keys) else None for i in bytes(instruction.accounts)]
        seen = _read(chain, program, data, accounts, pools)
        if seen is not None:
            return seen
    return None


def _read(
    chain: LocalChain,
    program: Pubkey,
    data: bytes,
    accounts: list[Pubkey | None],
    pools: Mapping[Pubkey, ChainPool],
) -> SeenSwap | None:
    tag = data[:8]
    if program == CPSWAP_PROGRAM and tag in _CPSWAP:
        return _cpswap(accounts, pools)
    if program == WHIRLPOOL_PROGRAM and tag in _WHIRLPOOL and len(data) > _WHIRLPOOL_A_TO_B_AT:
        pool = _pool_at(accounts, _WHIRLPOOL[tag], pools)
        return None if pool is None else SeenSwap(pool, data[_WHIRLPOOL_A_TO_B_AT] != 0)
    if program == DLMM_PROGRAM and tag in _DLMM:
        return _dlmm(chain, accounts, pools)
    return None


def _pool_at(
    accounts: list[Pubkey | None], at: int, pools: Mapping[Pubkey, ChainPool]
) -> ChainPool | None:
    address = accounts[at] if at < len(accounts) else None
    return None if address is None else pools.get(address)


def _cpswap(accounts: list[Pubkey | None], pools: Mapping[Pubkey, ChainPool]) -> SeenSwap | None:
    pool = _pool_at(accounts, 3, pools)
    if pool is None or len(accounts) <= _CPSWAP_INPUT_MINT:
        return None
    return SeenSwap(pool, accounts[_CPSWAP_INPUT_MINT] == pool.mint_a)


def _dlmm(
    chain: LocalChain, accounts: list[Pubkey | None], pools: Mapping[Pubkey, ChainPool]
) -> SeenSwap | None:
    pool = _pool_at(accounts, 0, pools)
    if pool is None or len(accounts) <= _DLMM_USER:
        return None
    token_in, user = accounts[_DLMM_TOKEN_IN], accounts[_DLMM_USER]
    if token_in is None or user is None:
        return None
    return SeenSwap(pool, _holds_x(chain, pool, token_in, user))


def _holds_x(chain: LocalChain, pool: ChainPool, token_in: Pubkey, user: Pubkey) -> bool:
    program = chain.token_program_of(pool.mint_a)
    if token_in == associated_token_address(user, pool.mint_a, program):
        return True
    account = chain.account(token_in)
    # Not the user's associated account of X: it sells X only if it is an account of X.
    return account is not None and bytes(account.data[:32]) == bytes(pool.mint_a)

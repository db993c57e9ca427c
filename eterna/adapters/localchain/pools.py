"""The pools the node knows: which venue, which tokens, which accounts, and how to trade them.

A :class:`ChainPool` names a pool by the program's own order of its tokens (CP-Swap's token
0 and 1, Whirlpool's A and B, DLMM's X and Y: always the lower mint address first), and lists
the accounts a quote reads - the pool state, its vaults, and its tick or bin arrays - which
are the accounts whose changes the node reports as pool changes.

:func:`read_math` reads a pool's accounts into our math (what Eterna quotes with), and
:func:`swap_instruction` builds the program's own exact-in swap, which the market maker and
the adverse moves of the fault plan send.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from eterna.adapters.localchain.cpswap_pools import read_pool
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.localchain.whirlpool_pools import read_whirlpool
from eterna.adapters.solana import cpswap
from eterna.adapters.solana.clusters import Cluster, programs_on
from eterna.adapters.solana.dlmm import (
    BIN_ARRAY_LEN,
    bin_array_address,
    bitmap_extension_address,
    decode_bin_array,
    decode_bitmap_extension,
    decode_lb_pair,
)
from eterna.adapters.solana.dlmm_swap import (
    bin_arrays_for_swap,
    liquid_bin_arrays,
    pool_state,
    swap2,
)
from eterna.adapters.solana.ids import DLMM_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.adapters.solana.spl import associated_token_address
from eterna.adapters.solana.whirlpool import (
    TICK_ARRAY_LEN,
    SwapV2,
    decode_whirlpool,
    swap_v2,
)
from eterna.amm.base import PoolMath
from eterna.domain.tokens import Token

# Venue names as Eterna's router knows them, and the program behind each at the local
# chain's ids (clusters.py: the mainnet ones).
VENUE_PROGRAMS: dict[str, Pubkey] = programs_on(Cluster.LOCALNET).by_venue()
# Bin arrays a DLMM swap may walk: far more than a pool of the local chain spans.
_SWAP_BIN_ARRAYS = 8
# Where an array account names its pool: after a Whirlpool tick array's 88 ticks; after a
# DLMM bin array's index, version and padding.
_TICK_ARRAY_POOL_AT = TICK_ARRAY_LEN - 32
_BIN_ARRAY_POOL_AT = 8 + 8 + 8


class UnknownVenueError(ValueError):
    """A venue the local chain has no program for."""


@dataclass(frozen=True, slots=True)
class ChainPool:
    """A pool of the local chain: venue, address, tokens in program order, accounts read."""

    venue: str
    address: Pubkey
    token_a: Token
    token_b: Token
    accounts: tuple[Pubkey, ...]

    @property
    def program(self) -> Pubkey:
        """Return the program that owns the pool."""
        return VENUE_PROGRAMS[self.venue]

    @property
    def mint_a(self) -> Pubkey:
        """Return the mint of token A (the lower address)."""
        return Pubkey.from_string(self.token_a.mint)

    @property
    def mint_b(self) -> Pubkey:
        """Return the mint of token B."""
        return Pubkey.from_string(self.token_b.mint)

    def direction(self, mint_in: Pubkey) -> bool | None:
        """Return a_to_b for a swap selling mint_in, or None when the pool does not hold it."""
        if mint_in == self.mint_a:
            return True
        if mint_in == self.mint_b:
            return False
        return None


def program_of(venue: str) -> Pubkey:
    """Return the program of a venue.

    :raises UnknownVenueError: for a venue the local chain does not run.
    """
    program = VENUE_PROGRAMS.get(venue)
    if program is None:
        raise UnknownVenueError(f"unknown venue {venue!r} (one of {sorted(VENUE_PROGRAMS)})")
    return program


def pool_accounts(chain: LocalChain, venue: str, address: Pubkey) -> tuple[Pubkey, ...]:
    """Return the accounts a quote of the pool reads: state, vaults, tick or bin arrays.

    :raises UnknownVenueError: for a venue the local chain does not run.
    """
    program_of(venue)
    if venue == "raydium":
        state = cpswap.decode_pool_state(chain.account_data(address))
        return (address, state.token_0_vault, state.token_1_vault)
    if venue == "orca":
        whirlpool = decode_whirlpool(chain.account_data(address))
        arrays = _arrays_of(chain, WHIRLPOOL_PROGRAM, address, TICK_ARRAY_LEN, _TICK_ARRAY_POOL_AT)
        return (address, whirlpool.vault_a, whirlpool.vault_b, *arrays)
    pair = decode_lb_pair(chain.account_data(address))
    arrays = _arrays_of(chain, DLMM_PROGRAM, address, BIN_ARRAY_LEN, _BIN_ARRAY_POOL_AT)
    extension = bitmap_extension_address(address)
    extra = (extension,) if chain.account(extension) is not None else ()
    return (address, pair.reserve_x, pair.reserve_y, *arrays, *extra)


def _arrays_of(
    chain: LocalChain, program: Pubkey, pool: Pubkey, size: int, pool_at: int
) -> list[Pubkey]:
    found = chain.svm.get_program_accounts(program)
    key = bytes(pool)
    mine = (
        address
        for address, account in found
        if len(account.data) == size and account.data[pool_at : pool_at + 32] == key
    )
    return sorted(mine, key=bytes)


def read_math(chain: LocalChain, pool: ChainPool) -> PoolMath:
    """Read the pool's accounts and return our math's state of it (A = the program's first)."""
    if pool.venue == "raydium":
        return read_pool(chain, pool.address).math
    if pool.venue == "orca":
        return read_whirlpool(chain, pool.address)[1]
    pair = decode_lb_pair(chain.account_data(pool.address))
    extension = chain.account(bitmap_extension_address(pool.address))
    bitmap = None if extension is None else decode_bitmap_extension(extension.data)
    arrays = [
        decode_bin_array(chain.account_data(bin_array_address(pool.address, index)))
        for index in liquid_bin_arrays(pair, bitmap)
    ]
    return pool_state(
        pair,
        arrays,
        vault_x=chain.token_balance(pair.reserve_x),
        vault_y=chain.token_balance(pair.reserve_y),
    )


def swap_instruction(
    chain: LocalChain,
    pool: ChainPool,
    owner: Pubkey,
    *,
    a_to_b: bool,
    amount_in: int,
    min_amount_out: int = 0,
) -> Instruction:
    """Build the program's exact-in swap for owner, between owner's associated accounts."""
    program_a = chain.token_program_of(pool.mint_a)
    program_b = chain.token_program_of(pool.mint_b)
    account_a = associated_token_address(owner, pool.mint_a, program_a)
    account_b = associated_token_address(owner, pool.mint_b, program_b)
    source, target = (account_a, account_b) if a_to_b else (account_b, account_a)
    if pool.venue == "raydium":
        state = cpswap.decode_pool_state(chain.account_data(pool.address))
        return cpswap.swap_base_input(
            pool.address,
            state,
            payer=owner,
            zero_for_one=a_to_b,
            input_account=source,
            output_account=target,
            amount_in=amount_in,
            minimum_amount_out=min_amount_out,
        )
    if pool.venue == "orca":
        whirlpool = decode_whirlpool(chain.account_data(pool.address))
        swap = SwapV2(
            authority=owner,
            owner_account_a=account_a,
            owner_account_b=account_b,
            amount=amount_in,
            other_amount_threshold=min_amount_out,
            a_to_b=a_to_b,
            token_program_a=program_a,
            token_program_b=program_b,
        )
        return swap_v2(pool.address, whirlpool, swap)
    pair = decode_lb_pair(chain.account_data(pool.address))
    extension_address = bitmap_extension_address(pool.address)
    extension = chain.account(extension_address)
    bitmap = None if extension is None else decode_bitmap_extension(extension.data)
    arrays = bin_arrays_for_swap(pair, swap_for_y=a_to_b, count=_SWAP_BIN_ARRAYS, extension=bitmap)
    return swap2(
        pool.address,
        pair,
        user=owner,
        user_token_in=source,
        user_token_out=target,
        amount_in=amount_in,
        min_amount_out=min_amount_out,
        bin_arrays=arrays,
        bitmap_extension=None if extension is None else extension_address,
    )

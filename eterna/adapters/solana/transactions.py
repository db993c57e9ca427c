"""One signed transaction per attempt: a route's swaps, atomic, as a wallet would send them.

In order: the compute-unit limit and price; the wallet's associated token accounts of every
token the route touches, created if missing (idempotent); SOL wrapped into the wrapped-SOL
account when tokenIn is SOL (a transfer, then sync-native); each leg's own swap instruction
(CP-Swap ``swap_base_input``, Whirlpool ``swap_v2``, DLMM ``swap2``) with the minimum out
the program enforces (:mod:`.legs`); the wrapped-SOL account closed whenever the route used
it, which unwraps SOL out (and gives its rent back after SOL in); a memo with the order id,
signed by the wallet.

The message is v0. Without lookup tables one swap takes 250-450 bytes of accounts and data,
and two swaps of different programs fit in Solana's 1,232 bytes; that message is kept
whenever it fits. Past it, the message names the accounts held by lookup tables (the pools'
static accounts: :mod:`.lookup_tables`) by a one-byte index, which takes three or four swaps
of mixed programs. A route that does not fit even then is refused with
:class:`TransactionTooLargeError` before anything is signed or sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0, MessageV1
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams
from solders.system_program import transfer as system_transfer
from solders.transaction import VersionedTransaction

from eterna.adapters.solana import cpswap
from eterna.adapters.solana.clusters import MAINNET_PROGRAMS, ProgramIds
from eterna.adapters.solana.dlmm_swap import swap2
from eterna.adapters.solana.ids import SYSTEM_PROGRAM, WSOL_MINT
from eterna.adapters.solana.legs import PlannedSwap
from eterna.adapters.solana.lookup_tables import pick_tables
from eterna.adapters.solana.snapshots import (
    DlmmSwapAccounts,
    PoolSnapshot,
    WhirlpoolSwapAccounts,
)
from eterna.adapters.solana.spl import (
    associated_token_address,
    close_account,
    create_associated_token_account_idempotent,
    memo,
    sync_native,
)
from eterna.adapters.solana.whirlpool import (
    MAX_SUPPLEMENTAL_TICK_ARRAYS,
    SwapV2,
    WhirlpoolState,
    swap_tick_arrays,
    swap_v2,
    tick_array_address,
)
from eterna.amm.whirlpool_reach import swap_array_starts, ticks_in_array
from eterna.domain.errors import VenueError

# Solana's limit on a serialized transaction (the IPv6 MTU less headers).
MAX_TRANSACTION_BYTES: Final = 1_232
MAX_COMPUTE_UNITS: Final = 1_400_000
# The accounts one transaction may name (lock), static and looked up together.
MAX_ACCOUNT_LOCKS: Final = 64


class TransactionTooLargeError(VenueError):
    """The route's transaction passes Solana's size limit, or names too many accounts."""


@dataclass(frozen=True, slots=True)
class TransactionConfig:
    """Compute budget of swap transactions.

    ``compute_units`` per venue are budgets for a large swap: a DLMM swap crossing 40 bins
    takes about 200,000 units on the local chain (whose SPL Token is cheaper than mainnet's),
    a Whirlpool swap crossing ticks 80,000. A transaction over its limit fails for good,
    while a generous limit only raises the priority fee (price x limit): 400 lamports per
    100,000 units at the default price.
    ``compute_unit_price`` is the priority fee, in micro-lamports per compute unit.
    """

    compute_unit_price: int = 1_000
    base_compute_units: int = 20_000
    per_account_compute_units: int = 25_000
    compute_units: Mapping[str, int] = field(
        default_factory=lambda: {"raydium": 80_000, "orca": 250_000, "meteora": 400_000}
    )
    default_swap_units: int = 400_000

    def limit(self, swaps: Sequence[PlannedSwap], accounts: int) -> int:
        """Return the compute-unit limit of a transaction with these swaps and token accounts."""
        units = self.base_compute_units + accounts * self.per_account_compute_units
        units += sum(
            self.compute_units.get(s.snapshot.entry.venue, self.default_swap_units) for s in swaps
        )
        return min(units, MAX_COMPUTE_UNITS)


@dataclass(frozen=True, slots=True)
class SwapTransaction:
    """A signed transaction and what it does: wrap, legs, unwrap, its compute budget.

    Unsigned when built with ``signed=False`` (its signatures are zeros), for a simulation
    that does not verify them.

    ``unwrap``: it closes the wrapped-SOL account (SOL in, out or in between).
    ``tables``: the lookup tables its message reads (none when it fits without).
    """

    transaction: VersionedTransaction
    swaps: tuple[PlannedSwap, ...]
    wrap_lamports: int
    unwrap: bool
    compute_unit_limit: int
    compute_unit_price: int
    tables: tuple[AddressLookupTableAccount, ...] = ()

    @property
    def wire(self) -> bytes:
        """Return the serialized signed transaction, as sendTransaction takes it."""
        return bytes(self.transaction)

    def written_accounts(self, exclude: Collection[Pubkey]) -> list[Pubkey]:
        """Return the accounts the transaction write-locks, but those excluded."""
        message = self.transaction.message
        written = written_keys(message)
        if isinstance(message, MessageV0) and self.tables:
            by_address = {t.key: t.addresses for t in self.tables}
            for lookup in message.address_table_lookups:
                addresses = by_address[lookup.account_key]
                written += [addresses[i] for i in bytes(lookup.writable_indexes)]
        return [key for key in written if key not in exclude]


def written_keys(message: Message | MessageV0 | MessageV1) -> list[Pubkey]:
    """Return the static accounts a message write-locks (as its header marks them).

    Accounts a v0 message looks up are not among them: see ``loaded_addresses`` of
    :mod:`eterna.adapters.localchain.lookups` for those.
    """
    header = message.header
    keys = message.account_keys
    signers = header.num_required_signatures
    signed_writable = signers - header.num_readonly_signed_accounts
    unsigned_writable = len(keys) - header.num_readonly_unsigned_accounts
    return [
        key
        for index, key in enumerate(keys)
        if index < signed_writable or signers <= index < unsigned_writable
    ]


def token_programs(swaps: Sequence[PlannedSwap]) -> dict[Pubkey, Pubkey]:
    """Return the token program of every mint the swaps touch, as their pools record it."""
    programs: dict[Pubkey, Pubkey] = {}
    for swap in swaps:
        state = swap.snapshot.state
        if isinstance(state, cpswap.PoolState):
            programs[state.token_0_mint] = state.token_0_program
            programs[state.token_1_mint] = state.token_1_program
        elif isinstance(state, WhirlpoolSwapAccounts):
            programs[state.state.mint_a] = state.token_program_a
            programs[state.state.mint_b] = state.token_program_b
        else:
            programs[state.pair.token_x_mint] = state.pair.token_x_program
            programs[state.pair.token_y_mint] = state.pair.token_y_program
    return programs


def token_accounts(owner: Pubkey, programs: Mapping[Pubkey, Pubkey]) -> list[Pubkey]:
    """Return owner's associated token accounts of the mints (mint -> token program)."""
    return [associated_token_address(owner, mint, program) for mint, program in programs.items()]


def build_swap_transaction(
    swaps: Sequence[PlannedSwap],
    *,
    wallet: Keypair,
    memo_text: str,
    blockhash: Hash,
    config: TransactionConfig,
    compute_unit_limit: int | None = None,
    compute_unit_price: int | None = None,
    lookup_tables: Sequence[AddressLookupTableAccount] = (),
    program_ids: ProgramIds = MAINNET_PROGRAMS,
    signed: bool = True,
) -> SwapTransaction:
    """Return the signed transaction of the planned swaps (see the module docstring).

    Whirlpool swaps carry spare tick arrays (:func:`supplemental_arrays`) when the
    transaction has room for them. The compute-unit limit and price are config's unless
    given (from a simulation and the recent fees: :mod:`.landing`). The first of these that
    fits is signed: without tables, with and then without spare arrays; then with the
    lookup_tables that hold its accounts, the same two ways. Swaps call the programs at
    their ids on the cluster (program_ids; CP-Swap's differs on devnet). Signing costs more
    than compiling the message (about 130 µs), so only the message kept is signed, and not
    even that one when ``signed`` is false.

    :raises TransactionTooLargeError: when it does not fit Solana's 1,232 bytes.
    """
    owner = wallet.pubkey()
    programs = token_programs(swaps)
    mint_in = swaps[0].mint_in
    accounts = {m: associated_token_address(owner, m, programs[m]) for m in programs}
    touched = list(dict.fromkeys(m for s in swaps for m in (s.mint_in, s.mint_out)))
    wrap = sum(s.amount_in for s in swaps if s.mint_in == mint_in) if mint_in == WSOL_MINT else 0
    # The wrapped-SOL account is closed whenever the route used it: that unwraps SOL out,
    # gives back its rent after SOL in, and unwraps what a hop through SOL left over.
    unwrap = WSOL_MINT in touched
    limit = config.limit(swaps, len(touched)) if compute_unit_limit is None else compute_unit_limit
    price = config.compute_unit_price if compute_unit_price is None else compute_unit_price
    head = [set_compute_unit_limit(limit)]
    if price:
        head.append(set_compute_unit_price(price))
    head += [
        create_associated_token_account_idempotent(owner, owner, m, programs[m]) for m in touched
    ]
    if wrap:
        pay = TransferParams(from_pubkey=owner, to_pubkey=accounts[WSOL_MINT], lamports=wrap)
        head += [system_transfer(pay), sync_native(accounts[WSOL_MINT], programs[WSOL_MINT])]
    tail = [close_account(accounts[WSOL_MINT], owner, owner, programs[WSOL_MINT])] if unwrap else []
    tail.append(memo(memo_text, (owner,)))
    sizes: list[int] = []
    locks = MAX_ACCOUNT_LOCKS + 1_000
    for use_tables in (False, True) if lookup_tables else (False,):
        for spare in (True, False):
            instructions = [
                *head,
                *(
                    _swap_instruction(s, owner, accounts, spare=spare, program_ids=program_ids)
                    for s in swaps
                ),
                *tail,
            ]
            tables = pick_tables(lookup_tables, _keys(instructions)) if use_tables else []
            message = MessageV0.try_compile(owner, instructions, tables, blockhash)
            # A signature takes the same 64 bytes signed or not.
            unsigned = VersionedTransaction.populate(message, [Signature.default()])
            size = len(bytes(unsigned))
            sizes.append(size)
            named = _locks(message)
            locks = min(locks, named)
            if size <= MAX_TRANSACTION_BYTES and named <= MAX_ACCOUNT_LOCKS:
                used = _used_tables(message, tables)
                transaction = VersionedTransaction(message, [wallet]) if signed else unsigned
                return SwapTransaction(transaction, tuple(swaps), wrap, unwrap, limit, price, used)
    tables_note = " with the lookup tables known" if lookup_tables else " without lookup tables"
    if min(sizes) <= MAX_TRANSACTION_BYTES:
        raise TransactionTooLargeError(
            f"{len(swaps)} swaps name {locks} accounts, over {MAX_ACCOUNT_LOCKS}"
        )
    raise TransactionTooLargeError(
        f"{len(swaps)} swaps take {min(sizes)} bytes, over {MAX_TRANSACTION_BYTES}{tables_note}"
    )


def _locks(message: MessageV0) -> int:
    lookups = message.address_table_lookups
    looked_up = sum(
        len(bytes(t.writable_indexes)) + len(bytes(t.readonly_indexes)) for t in lookups
    )
    return len(message.account_keys) + looked_up


def _keys(instructions: Sequence[Instruction]) -> list[Pubkey]:
    return [meta.pubkey for ix in instructions for meta in ix.accounts]


def _used_tables(
    message: MessageV0, tables: Sequence[AddressLookupTableAccount]
) -> tuple[AddressLookupTableAccount, ...]:
    used = {lookup.account_key for lookup in message.address_table_lookups}
    return tuple(t for t in tables if t.key in used)


def _swap_instruction(
    swap: PlannedSwap,
    owner: Pubkey,
    accounts: dict[Pubkey, Pubkey],
    *,
    spare: bool,
    program_ids: ProgramIds = MAINNET_PROGRAMS,
) -> Instruction:
    # Whirlpool and DLMM run at one id on every cluster Eterna trades (clusters.py).
    entry, state = swap.snapshot.entry, swap.snapshot.state
    source, target = accounts[swap.mint_in], accounts[swap.mint_out]
    if isinstance(state, cpswap.PoolState):
        return cpswap.swap_base_input(
            entry.address,
            state,
            payer=owner,
            zero_for_one=swap.a_to_b,
            input_account=source,
            output_account=target,
            amount_in=swap.amount_in,
            minimum_amount_out=swap.min_out,
            program=program_ids.raydium,
        )
    if isinstance(state, WhirlpoolSwapAccounts):
        pool = state.state
        owner_a, owner_b = (source, target) if swap.a_to_b else (target, source)
        spec = SwapV2(
            authority=owner,
            owner_account_a=owner_a,
            owner_account_b=owner_b,
            amount=swap.amount_in,
            other_amount_threshold=swap.min_out,
            a_to_b=swap.a_to_b,
            token_program_a=state.token_program_a,
            token_program_b=state.token_program_b,
            supplemental_tick_arrays=(
                supplemental_arrays(entry.address, pool, a_to_b=swap.a_to_b) if spare else ()
            ),
        )
        return swap_v2(entry.address, pool, spec)
    return _dlmm_swap(swap, state, owner, source, target)


def _dlmm_swap(
    swap: PlannedSwap, state: DlmmSwapAccounts, owner: Pubkey, source: Pubkey, target: Pubkey
) -> Instruction:
    # X -> Y (a_to_b) walks the arrays below the active bin; the quote saw exactly these.
    arrays = state.arrays_for_y if swap.a_to_b else state.arrays_for_x
    return swap2(
        swap.snapshot.entry.address,
        state.pair,
        user=owner,
        user_token_in=source,
        user_token_out=target,
        amount_in=swap.amount_in,
        min_amount_out=swap.min_out,
        bin_arrays=arrays,
        bitmap_extension=state.extension,
    )


def supplemental_arrays(pool: Pubkey, state: WhirlpoolState, *, a_to_b: bool) -> list[Pubkey]:
    """Return the tick arrays a swap needs if the price moved one array either way first.

    The program picks its arrays from the tick at landing; passing these lets the swap land
    (and its minimum decide) instead of failing on a missing array.
    """
    own = set(swap_tick_arrays(pool, state, a_to_b=a_to_b))
    span = ticks_in_array(state.tick_spacing)
    found: list[Pubkey] = []
    for tick in (state.tick_current - span, state.tick_current + span):
        for start in swap_array_starts(tick, state.tick_spacing, a_to_b=a_to_b):
            address = tick_array_address(pool, start)
            if address not in own and address not in found:
                found.append(address)
    return found[:MAX_SUPPLEMENTAL_TICK_ARRAYS]


# Stands for the wallet when listing a pool's accounts: whatever is derived from it is not
# the pool's.
_ANY_WALLET: Final = Pubkey.find_program_address([b"eterna-any-wallet"], SYSTEM_PROGRAM)[0]


def pool_table_addresses(
    snapshot: PoolSnapshot, program_ids: ProgramIds = MAINNET_PROGRAMS
) -> list[Pubkey]:
    """Return the accounts a swap on the pool names that are no wallet's: what a table holds.

    Both directions' swap instructions as :func:`build_swap_transaction` makes them (spare
    tick arrays included) with the cluster's program_ids, less the wallet and its token
    accounts, and less the programs the transaction calls (a called program is never looked
    up).
    """
    programs = token_programs([_probe(snapshot, a_to_b=True)])
    accounts = {m: associated_token_address(_ANY_WALLET, m, p) for m, p in programs.items()}
    wallets = {_ANY_WALLET, *accounts.values()}
    found: list[Pubkey] = []
    for a_to_b in (True, False):
        swap = _swap_instruction(
            _probe(snapshot, a_to_b=a_to_b),
            _ANY_WALLET,
            accounts,
            spare=True,
            program_ids=program_ids,
        )
        found += [m.pubkey for m in swap.accounts if m.pubkey not in wallets]
    called = {snapshot.entry.program, program_ids.program_of(snapshot.entry.venue)}
    return [key for key in dict.fromkeys(found) if key not in called]


def _probe(snapshot: PoolSnapshot, *, a_to_b: bool) -> PlannedSwap:
    mint_a, mint_b = (
        Pubkey.from_string(t.mint) for t in (snapshot.entry.token_a, snapshot.entry.token_b)
    )
    mint_in, mint_out = (mint_a, mint_b) if a_to_b else (mint_b, mint_a)
    return PlannedSwap(snapshot, a_to_b, mint_in, mint_out, 1, 0, 0)

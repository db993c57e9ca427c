"""Meteora DLMM swaps: the bin arrays a swap walks, ``swap2``, and our math's state of a pair.

Eterna quotes a DLMM pair the way an aggregator does: read the pair and the bin arrays a
swap would walk, turn them into :class:`eterna.amm.dlmm.DlmmPool`, and swap with our math;
the instruction then lists the same bin arrays, so the program walks exactly the bins the
quote saw (a swap running past them fails on chain, as it fails in the quote).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from eterna.adapters.solana.anchor import instruction_discriminator
from eterna.adapters.solana.dlmm import (
    ACTIVATION_SLOT,
    BINS_PER_ARRAY,
    BITMAP_SIZE,
    COLLECT_FEE_INPUT_ONLY,
    PROGRAM,
    STATUS_ENABLED,
    Bin,
    BinArray,
    BitmapExtension,
    LbPair,
    bin_array_address,
    event_authority_address,
    set_bits,
)
from eterna.adapters.solana.ids import MEMO_PROGRAM
from eterna.adapters.solana.instruction import readonly, signer, writable
from eterna.amm.dlmm import DlmmPool
from eterna.domain.errors import EternaError


class UnsupportedPairError(EternaError):
    """The pair uses a feature our math does not model; quoting it would be a guess."""


class PairNotTradableError(EternaError):
    """The pair refuses swaps: disabled, or not yet past its activation point."""


def bin_array_index(bin_id: int) -> int:
    """Return the index of the bin array holding bin_id (floor division, as the program)."""
    return bin_id // BINS_PER_ARRAY


def liquid_bin_arrays(pair: LbPair, extension: BitmapExtension | None = None) -> list[int]:
    """Return the indexes of the bin arrays the bitmaps mark as holding liquidity, ascending."""
    bitmap = pair.bin_array_bitmap
    inside = [bit - BITMAP_SIZE for bit in set_bits(bitmap)]
    return sorted(inside + (extension.flagged() if extension is not None else []))


def bin_arrays_for_swap(
    pair: LbPair,
    *,
    swap_for_y: bool,
    count: int,
    extension: BitmapExtension | None = None,
) -> list[int]:
    """Return up to count indexes of the bin arrays a swap walks, in swap order.

    The program takes them from the active bin's array outward, skipping arrays the bitmaps
    mark empty, and checks each one it reaches against the next account it was given.
    """
    start = bin_array_index(pair.active_id)
    liquid = liquid_bin_arrays(pair, extension)
    if swap_for_y:
        return [index for index in reversed(liquid) if index <= start][:count]
    return [index for index in liquid if index >= start][:count]


def swap2(
    lb_pair: Pubkey,
    pair: LbPair,
    *,
    user: Pubkey,
    user_token_in: Pubkey,
    user_token_out: Pubkey,
    amount_in: int,
    min_amount_out: int,
    bin_arrays: Sequence[int],
    bitmap_extension: Pubkey | None = None,
    host_fee_in: Pubkey | None = None,
) -> Instruction:
    """Build ``swap2``: sell exactly amount_in, fail below min_amount_out.

    bin_arrays are indexes in swap order (:func:`bin_arrays_for_swap`). The remaining
    accounts info is empty: mints with a transfer hook would need their hook accounts.
    Optional accounts left out are passed as the program id, Anchor's "None".
    """
    data = (
        instruction_discriminator("swap2")
        + struct.pack("<QQ", amount_in, min_amount_out)
        + struct.pack("<I", 0)  # RemainingAccountsInfo { slices: [] }
    )
    accounts = [
        writable(lb_pair),
        writable(bitmap_extension) if bitmap_extension else readonly(PROGRAM),
        writable(pair.reserve_x),
        writable(pair.reserve_y),
        writable(user_token_in),
        writable(user_token_out),
        readonly(pair.token_x_mint),
        readonly(pair.token_y_mint),
        writable(pair.oracle),
        writable(host_fee_in) if host_fee_in else readonly(PROGRAM),
        signer(user),
        readonly(pair.token_x_program),
        readonly(pair.token_y_program),
        readonly(MEMO_PROGRAM),
        readonly(event_authority_address()),
        readonly(PROGRAM),
        *(writable(bin_array_address(lb_pair, index)) for index in bin_arrays),
    ]
    return Instruction(PROGRAM, data, accounts)


def bins_of(arrays: Iterable[BinArray]) -> list[tuple[int, Bin]]:
    """Return the (bin id, bin) pairs of some bin arrays, sorted by id."""
    found = [
        (bin_id, bin_)
        for array in arrays
        for bin_id, bin_ in zip(array.bin_ids(), array.bins, strict=True)
    ]
    return sorted(found, key=lambda item: item[0])


def check_tradable(pair: LbPair, *, slot: int, unix_time: int) -> None:
    """Check that the program accepts a swap on pair at this slot and time.

    :raises PairNotTradableError: when the pair is disabled or not yet activated.
    """
    if pair.status != STATUS_ENABLED:
        raise PairNotTradableError("the pair is disabled")
    now = slot if pair.activation_type == ACTIVATION_SLOT else unix_time
    if now < pair.activation_point:
        raise PairNotTradableError(f"the pair opens at {pair.activation_point}, now is {now}")


def pool_state(
    pair: LbPair,
    arrays: Iterable[BinArray],
    *,
    vault_x: int | None = None,
    vault_y: int | None = None,
) -> DlmmPool:
    """Return our math's state of a pair, from its account and the bin arrays a swap walks.

    A = X, B = Y. The variable parameters are copied as stored: :meth:`DlmmPool.swap` moves
    the references and the accumulator as the program does at swap time, given the clock.
    The vault balances, when given and when arrays hold every bin of the pair, count the
    fees held outside the bins; else only the protocol's share is known.

    :raises UnsupportedPairError: for a fee charged on the output token (collect fee mode
        ``OnlyY``) or limit orders waiting in a bin, which our math does not model.
    """
    if pair.collect_fee_mode != COLLECT_FEE_INPUT_ONLY:
        raise UnsupportedPairError(f"collect fee mode {pair.collect_fee_mode} is not modelled")
    bins = []
    for bin_id, bin_ in bins_of(arrays):
        if bin_.has_limit_orders:
            raise UnsupportedPairError(f"limit orders wait in bin {bin_id}")
        if bin_.amount_x or bin_.amount_y:
            bins.append((bin_id, bin_.amount_x, bin_.amount_y))
    in_bins_x = sum(x for _, x, _ in bins)
    in_bins_y = sum(y for _, _, y in bins)
    return DlmmPool(
        bin_step=pair.bin_step,
        active_id=pair.active_id,
        bins=tuple(bins),
        base_factor=pair.base_factor,
        base_fee_power_factor=pair.base_fee_power_factor,
        variable_fee_control=pair.variable_fee_control,
        max_volatility_accumulator=pair.max_volatility_accumulator,
        filter_period=pair.filter_period,
        decay_period=pair.decay_period,
        reduction_factor=pair.reduction_factor,
        protocol_share=pair.protocol_share,
        volatility_accumulator=pair.volatility_accumulator,
        volatility_reference=pair.volatility_reference,
        index_reference=pair.index_reference,
        last_update_timestamp=pair.last_update_timestamp,
        fees_a=pair.protocol_fee_x if vault_x is None else vault_x - in_bins_x,
        fees_b=pair.protocol_fee_y if vault_y is None else vault_y - in_bins_y,
        protocol_fees_a=pair.protocol_fee_x,
        protocol_fees_b=pair.protocol_fee_y,
    )

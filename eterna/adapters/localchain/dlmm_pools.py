"""Meteora DLMM pairs on the local chain, made through the program's own instructions.

Only the fee preset is written directly: ``PresetParameter2`` accounts are created by the
program's admin alone (as on mainnet, where pairs pick one of the presets Meteora made), so
the preset is put in place owned by the program. The pair (``initialize_lb_pair2``), its
bin arrays, positions and liquidity (``add_liquidity_by_weight2``) then go through the
program, which decides every amount the bins hold.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.results import AccountNotFoundError
from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.anchor import account_discriminator, instruction_discriminator
from eterna.adapters.solana.dlmm import (
    BITMAP_SIZE,
    PROGRAM,
    LbPair,
    bin_array_address,
    bitmap_extension_address,
    decode_lb_pair,
    event_authority_address,
    oracle_address,
    preset_pair_address,
    preset_parameter2_address,
    reserve_address,
)
from eterna.adapters.solana.dlmm_swap import bin_array_index
from eterna.adapters.solana.ids import SYSTEM_PROGRAM
from eterna.adapters.solana.instruction import readonly, signer, writable
from eterna.adapters.solana.spl import associated_token_address
from eterna.amm.dlmm import closest_bin

# initialize_bin_array stores 70 bin prices: far above the default 200k compute units.
SETUP_COMPUTE_UNITS = 1_400_000
MAX_POSITION_WIDTH = 70  # initialize_position2's widest position
_PRESET_LEN = 8 + 32 + 152


@dataclass(frozen=True, slots=True)
class DlmmFees:
    """A pair's fee parameters, as a ``PresetParameter2`` holds them."""

    bin_step: int
    base_factor: int
    base_fee_power_factor: int = 0
    filter_period: int = 30
    decay_period: int = 600
    reduction_factor: int = 5_000
    variable_fee_control: int = 7_500
    max_volatility_accumulator: int = 150_000
    protocol_share: int = 500
    collect_fee_mode: int = 0

    @property
    def base_fee_rate(self) -> int:
        """Return the base fee rate over 1e9, as the program computes it."""
        power: int = 10**self.base_fee_power_factor
        return self.base_factor * self.bin_step * 10 * power


@dataclass(frozen=True, slots=True)
class Deposit:
    """Liquidity for one position: consecutive bins from lower_bin_id, one weight each."""

    lower_bin_id: int
    weights: tuple[int, ...]
    amount_x: int
    amount_y: int

    @property
    def upper_bin_id(self) -> int:
        """Return the id of the deposit's last bin."""
        return self.lower_bin_id + len(self.weights) - 1


def encode_preset(fees: DlmmFees, index: int) -> bytes:
    """Return the bytes of a ``PresetParameter2`` account holding fees."""
    body = struct.pack(
        "<HHHHIIHHHBBB",
        fees.bin_step,
        fees.base_factor,
        fees.filter_period,
        fees.decay_period,
        fees.variable_fee_control,
        fees.max_volatility_accumulator,
        fees.reduction_factor,
        fees.protocol_share,
        index,
        fees.base_fee_power_factor,
        0,  # concrete function type: none
        fees.collect_fee_mode,
    )
    return account_discriminator("PresetParameter2") + body.ljust(_PRESET_LEN - 8, b"\0")


def needs_extension(bin_id: int) -> bool:
    """Tell whether a bin's array lies past the pair's own bitmap (-512..511)."""
    return not -BITMAP_SIZE <= bin_array_index(bin_id) < BITMAP_SIZE


class DlmmPools:
    """Create DLMM pairs on a local chain and fill them with liquidity."""

    def __init__(self, chain: LocalChain) -> None:
        self.chain = chain

    def preset(self, fees: DlmmFees) -> Pubkey:
        """Return a preset account holding fees, writing it when the chain has none.

        The index comes from the fees, probing on past presets holding other fees, so any
        number of these helpers on one chain agree on where each preset lives.
        """
        index = zlib.crc32(repr(fees).encode()) & 0xFFFF
        while True:
            address = preset_parameter2_address(index)
            data = encode_preset(fees, index)
            existing = self.chain.account(address)
            if existing is None:
                self.chain.put_account(address, data, PROGRAM)
                return address
            if existing.data == data:
                return address
            index = (index + 1) & 0xFFFF

    def create_pair(
        self, mint_x: Pubkey, mint_y: Pubkey, fees: DlmmFees, *, active_id: int
    ) -> Pubkey:
        """Create the pair of two mints (X the lower address) at a bin; return its address."""
        if bytes(mint_x) >= bytes(mint_y):
            raise ValueError("mint_x must sort below mint_y, as the program orders a pair")
        preset = self.preset(fees)
        lb_pair = preset_pair_address(preset, mint_x, mint_y)
        extension = bitmap_extension_address(lb_pair)
        program_x, program_y = self._token_program(mint_x), self._token_program(mint_y)
        data = (
            instruction_discriminator("initialize_lb_pair2")
            + struct.pack("<i", active_id)
            + bytes(96)
        )
        accounts = [
            writable(lb_pair),
            # The program keeps the liquidity bits of bin arrays past -512..511 there.
            writable(extension) if needs_extension(active_id) else readonly(PROGRAM),
            readonly(mint_x),
            readonly(mint_y),
            writable(reserve_address(lb_pair, mint_x)),
            writable(reserve_address(lb_pair, mint_y)),
            writable(oracle_address(lb_pair)),
            readonly(preset),
            signer(self.chain.faucet.pubkey(), mutable=True),
            readonly(PROGRAM),  # no token badge for X
            readonly(PROGRAM),  # nor for Y
            readonly(program_x),
            readonly(program_y),
            readonly(SYSTEM_PROGRAM),
            readonly(event_authority_address()),
            readonly(PROGRAM),
        ]
        self.chain.setup([Instruction(PROGRAM, data, accounts)])
        return lb_pair

    def create_pair_at_price(
        self, mint_x: Pubkey, mint_y: Pubkey, fees: DlmmFees, price: Fraction
    ) -> Pubkey:
        """Create the pair at the bin closest to price (raw Y base units per X base unit)."""
        return self.create_pair(mint_x, mint_y, fees, active_id=closest_bin(price, fees.bin_step))

    def pair(self, lb_pair: Pubkey) -> LbPair:
        """Return the decoded pair account."""
        return decode_lb_pair(self.chain.account_data(lb_pair))

    def ensure_bin_arrays(self, lb_pair: Pubkey, lower_bin_id: int, upper_bin_id: int) -> None:
        """Create the bin arrays covering bins lower_bin_id..upper_bin_id that do not exist."""
        for index in range(bin_array_index(lower_bin_id), bin_array_index(upper_bin_id) + 1):
            address = bin_array_address(lb_pair, index)
            if self.chain.account(address) is not None:
                continue
            data = instruction_discriminator("initialize_bin_array") + struct.pack("<q", index)
            accounts = [
                readonly(lb_pair),
                writable(address),
                signer(self.chain.faucet.pubkey(), mutable=True),
                readonly(SYSTEM_PROGRAM),
            ]
            self._send([Instruction(PROGRAM, data, accounts)])

    def deposit(self, lb_pair: Pubkey, owner: Keypair, deposit: Deposit) -> Pubkey:
        """Open a position for owner and add the deposit's liquidity; return the position.

        The owner must hold the amounts in its associated token accounts of X and Y.
        """
        width = len(deposit.weights)
        if not 0 < width <= MAX_POSITION_WIDTH:
            raise ValueError(f"a position spans 1 to {MAX_POSITION_WIDTH} bins, not {width}")
        self.ensure_bin_arrays(lb_pair, deposit.lower_bin_id, deposit.upper_bin_id)
        position = self.chain.new_keypair()
        opened = self._open_position(lb_pair, position.pubkey(), owner, deposit)
        self._send([opened], [position, owner])
        self._send([self._add_liquidity(lb_pair, position.pubkey(), owner, deposit)], [owner])
        return position.pubkey()

    def spread(
        self, lb_pair: Pubkey, owner: Keypair, *, bins_each_side: int, amount_x: int, amount_y: int
    ) -> list[Pubkey]:
        """Spread liquidity evenly over the active bin and bins_each_side bins on each side.

        Y goes to the active bin and the bins below it, X to the active bin and those above,
        in positions of up to 70 bins; the program decides what each bin holds (the active
        one takes X and Y in the proportion it can). Return the positions.
        """
        active = self.pair(lb_pair).active_id
        lower, upper = active - bins_each_side, active + bins_each_side
        positions = []
        for start in range(lower, upper + 1, MAX_POSITION_WIDTH):
            end = min(upper, start + MAX_POSITION_WIDTH - 1)
            share_x = max(0, end - max(start, active) + 1) * amount_x // (upper - active + 1)
            share_y = max(0, min(end, active) - start + 1) * amount_y // (active - lower + 1)
            weights = (1,) * (end - start + 1)
            positions.append(
                self.deposit(lb_pair, owner, Deposit(start, weights, share_x, share_y))
            )
        return positions

    def extension(self, lb_pair: Pubkey) -> Pubkey | None:
        """Return the pair's bitmap extension account when it has one."""
        address = bitmap_extension_address(lb_pair)
        return address if self.chain.account(address) is not None else None

    def _extension_meta(self, lb_pair: Pubkey) -> AccountMeta:
        extension = self.extension(lb_pair)
        return writable(extension) if extension else readonly(PROGRAM)

    def _send(self, instructions: list[Instruction], signers: Sequence[Keypair] = ()) -> None:
        self.chain.send(instructions, signers, compute_unit_limit=SETUP_COMPUTE_UNITS).check()

    def _token_program(self, mint: Pubkey) -> Pubkey:
        account = self.chain.account(mint)
        if account is None:
            raise AccountNotFoundError(f"no mint at {mint}")
        return account.owner

    def _open_position(
        self, lb_pair: Pubkey, position: Pubkey, owner: Keypair, deposit: Deposit
    ) -> Instruction:
        data = instruction_discriminator("initialize_position2") + struct.pack(
            "<ii", deposit.lower_bin_id, len(deposit.weights)
        )
        accounts = [
            signer(self.chain.faucet.pubkey(), mutable=True),
            signer(position, mutable=True),
            readonly(lb_pair),
            signer(owner.pubkey()),
            readonly(SYSTEM_PROGRAM),
            readonly(event_authority_address()),
            readonly(PROGRAM),
        ]
        return Instruction(PROGRAM, data, accounts)

    def _add_liquidity(
        self, lb_pair: Pubkey, position: Pubkey, owner: Keypair, deposit: Deposit
    ) -> Instruction:
        pair = self.pair(lb_pair)
        program_x, program_y = pair.token_x_program, pair.token_y_program
        bins = deposit.weights
        data = (
            instruction_discriminator("add_liquidity_by_weight2")
            + struct.pack("<QQii", deposit.amount_x, deposit.amount_y, pair.active_id, 0)
            + struct.pack("<I", len(bins))
            + b"".join(
                struct.pack("<iH", deposit.lower_bin_id + i, weight)
                for i, weight in enumerate(bins)
            )
            + struct.pack("<I", 0)  # RemainingAccountsInfo { slices: [] }: no transfer hooks
        )
        first, last = bin_array_index(deposit.lower_bin_id), bin_array_index(deposit.upper_bin_id)
        accounts = [
            writable(position),
            writable(lb_pair),
            self._extension_meta(lb_pair),
            writable(associated_token_address(owner.pubkey(), pair.token_x_mint, program_x)),
            writable(associated_token_address(owner.pubkey(), pair.token_y_mint, program_y)),
            writable(pair.reserve_x),
            writable(pair.reserve_y),
            readonly(pair.token_x_mint),
            readonly(pair.token_y_mint),
            signer(owner.pubkey()),
            readonly(program_x),
            readonly(program_y),
            readonly(event_authority_address()),
            readonly(PROGRAM),
            # The bin arrays the position covers, each once (v1 lists two and fails when the
            # position sits in one array: it borrows the same account twice).
            *(writable(bin_array_address(lb_pair, i)) for i in range(first, last + 1)),
        ]
        return Instruction(PROGRAM, data, accounts)

"""The local chain: LiteSVM running the DEX programs' mainnet builds, with a clock and a faucet.

A thin wrapper: accounts, the clock and transactions are LiteSVM's; this adds what every user
of the chain repeats - loading the checked program binaries, a clock that starts at a real
date (LiteSVM's starts at unix time 0, before any pool opens), a faucet that owns the mints it
creates and pays for setup, and a typed result for every transaction with the token balances
of the accounts it could change.

Keypairs come from a seed (:meth:`LocalChain.new_keypair`), so two chains built alike hold
the same addresses and a failing case reproduces with its mint order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.clock import Clock
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import (
    CreateAccountParams,
    TransferParams,
    create_account,
)
from solders.system_program import transfer as system_transfer
from solders.transaction import Transaction, VersionedTransaction

from eterna.adapters.localchain.lookups import try_loaded
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.results import (
    AccountNotFoundError,
    TokenBalance,
    TxResult,
    build_result,
    token_balance_of,
    writable_keys,
)
from eterna.adapters.solana.ids import (
    CPSWAP_PROGRAM,
    DLMM_PROGRAM,
    SYSTEM_PROGRAM,
    TOKEN_2022_PROGRAM,
    TOKEN_PROGRAM,
    WHIRLPOOL_PROGRAM,
    WSOL_MINT,
    well_known_mints,
)
from eterna.adapters.solana.lookup_tables import (
    LOOKUP_TABLE_PROGRAM,
    MAX_ADDRESSES_PER_EXTENSION,
    create_lookup_table,
    extend_lookup_table,
)
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.rpc import AccountInfo
from eterna.adapters.solana.snapshots import PoolSnapshot, needed_keys, snapshot
from eterna.adapters.solana.spl import (
    MINT_LEN,
    MintInfo,
    TokenAccountInfo,
    associated_token_address,
    create_associated_token_account_idempotent,
    decode_mint,
    decode_token_account,
    encode_mint,
    initialize_mint,
    memo,
    mint_to,
    sync_native,
)
from eterna.domain.tokens import Token

# 2026-01-01T00:00:00Z: a clock at a real date, so pools open and fees decay as on mainnet.
GENESIS_UNIX_TIME = 1_767_225_600
AIRDROP_LAMPORTS = 2**63
FAUCET_LAMPORTS = 10**18
WALLET_LAMPORTS = 100 * 10**9
# Every account a chain's users make is owned by one of these (programs and sysvars are not:
# a new chain has them already).
SNAPSHOT_OWNERS = (
    SYSTEM_PROGRAM,
    TOKEN_PROGRAM,
    TOKEN_2022_PROGRAM,
    CPSWAP_PROGRAM,
    WHIRLPOOL_PROGRAM,
    DLMM_PROGRAM,
    LOOKUP_TABLE_PROGRAM,
)
# A cluster's SlotHashes holds its last 512 slots.
SLOT_HASHES_KEPT = 512


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """What a chain holds at one moment: its accounts, clock and keypairs handed out."""

    seed: bytes
    accounts: tuple[tuple[Pubkey, Account], ...]
    slot: int
    unix_time: int
    keypairs: int


class LocalChain:
    """LiteSVM with the DEX programs loaded, a settable clock, a faucet and typed results."""

    def __init__(
        self,
        programs: Iterable[ProgramFile],
        *,
        unix_time: int = GENESIS_UNIX_TIME,
        seed: bytes = b"eterna",
    ) -> None:
        # LiteSVM's airdrop account starts with 1M SOL; the faucet wraps more than that.
        self.svm = LiteSVM().with_lamports(AIRDROP_LAMPORTS)
        for program in programs:
            self.svm.add_program_from_file(program.spec.program_id, program.path)
        self._seed = seed
        self._keypairs = 0
        self.faucet = self.new_keypair()
        self.airdrop(self.faucet.pubkey(), FAUCET_LAMPORTS)
        self.set_time(unix_time)

    def load_program(self, program_id: Pubkey, elf: bytes) -> None:
        """Load a program build at an address (another cluster's build of a DEX program)."""
        self.svm.add_program(program_id, elf)

    # -- snapshots ----------------------------------------------------------------------------

    def snapshot(self) -> ChainSnapshot:
        """Return every account users made, the clock and the keypair count."""
        # LiteSVM's own airdrop account is not the chain's: each LiteSVM makes its own.
        airdrop = self.svm.airdrop_pubkey()
        accounts = [
            (address, account)
            for owner in SNAPSHOT_OWNERS
            for address, account in self.svm.get_program_accounts(owner)
            if address != airdrop
        ]
        return ChainSnapshot(self._seed, tuple(accounts), self.slot, self.unix_time, self._keypairs)

    def restore(self, snapshot: ChainSnapshot) -> None:
        """Make this chain hold a snapshot's accounts, clock and keypair count.

        :raises ValueError: when the snapshot comes from a chain of another seed (its
            keypairs, the faucet first, would not be this chain's).
        """
        if snapshot.seed != self._seed:
            raise ValueError("a snapshot restores only on a chain of the same seed")
        for address, account in snapshot.accounts:
            self.svm.set_account(address, account)
        self._keypairs = snapshot.keypairs
        self.svm.warp_to_slot(snapshot.slot)
        self.set_time(snapshot.unix_time)

    # -- keys and lamports ------------------------------------------------------------------

    def new_keypair(self) -> Keypair:
        """Return the chain's next keypair, derived from its seed (no lamports)."""
        self._keypairs += 1
        digest = hashlib.sha256(self._seed + self._keypairs.to_bytes(8, "little")).digest()
        return Keypair.from_seed(digest)

    def new_wallet(self, lamports: int = WALLET_LAMPORTS) -> Keypair:
        """Return a new keypair holding lamports, to pay fees and rent."""
        wallet = self.new_keypair()
        self.airdrop(wallet.pubkey(), lamports)
        return wallet

    def airdrop(self, address: Pubkey, lamports: int) -> None:
        """Give address lamports out of thin air."""
        build_result(self.svm.airdrop(address, lamports), {}, {}).check()

    def lamports(self, address: Pubkey) -> int:
        """Return the lamports of an account (0 when it does not exist)."""
        return self.svm.get_balance(address) or 0

    # -- clock ------------------------------------------------------------------------------

    @property
    def unix_time(self) -> int:
        """Return the clock's unix time, in seconds."""
        return self.svm.get_clock().unix_timestamp

    @property
    def slot(self) -> int:
        """Return the current slot."""
        return self.svm.get_clock().slot

    def set_time(self, unix_time: int) -> None:
        """Set the clock's unix time, keeping the slot."""
        clock = self.svm.get_clock()
        self.svm.set_clock(
            Clock(
                clock.slot,
                clock.epoch_start_timestamp,
                clock.epoch,
                clock.leader_schedule_epoch,
                unix_time,
            )
        )

    def advance(self, *, seconds: int = 0, slots: int = 0) -> None:
        """Move the clock forward; a new slot brings a new blockhash, as on a cluster."""
        if seconds < 0 or slots < 0:
            raise ValueError("the clock only moves forward")
        if slots:
            self.svm.warp_to_slot(self.slot + slots)
            self.svm.expire_blockhash()
        if seconds:
            self.set_time(self.unix_time + seconds)

    def latest_blockhash(self) -> Hash:
        """Return the blockhash transactions should carry now."""
        return self.svm.latest_blockhash()

    # -- accounts ---------------------------------------------------------------------------

    def account(self, address: Pubkey) -> Account | None:
        """Return the account at address, or None."""
        return self.svm.get_account(address)

    def account_data(self, address: Pubkey) -> bytes:
        """Return the data of the account at address.

        :raises AccountNotFoundError: when there is none.
        """
        account = self.svm.get_account(address)
        if account is None:
            raise AccountNotFoundError(f"no account at {address}")
        return account.data

    def put_account(
        self,
        address: Pubkey,
        data: bytes,
        owner: Pubkey,
        *,
        lamports: int | None = None,
        executable: bool = False,
    ) -> None:
        """Write an account directly (rent-exempt by default), bypassing every program."""
        if lamports is None:
            lamports = self.svm.minimum_balance_for_rent_exemption(len(data))
        self.svm.set_account(address, Account(lamports, data, owner, executable))

    def rent_exempt(self, size: int) -> int:
        """Return the lamports an account of size bytes needs to be rent-exempt."""
        return self.svm.minimum_balance_for_rent_exemption(size)

    # -- tokens ---------------------------------------------------------------------------

    def create_mint(
        self, decimals: int, *, mint: Keypair | None = None, token_program: Pubkey = TOKEN_PROGRAM
    ) -> Pubkey:
        """Create a mint through the token program; the faucet is its mint authority."""
        mint = mint or self.new_keypair()
        create = create_account(
            CreateAccountParams(
                from_pubkey=self.faucet.pubkey(),
                to_pubkey=mint.pubkey(),
                lamports=self.rent_exempt(MINT_LEN),
                space=MINT_LEN,
                owner=token_program,
            )
        )
        init = initialize_mint(mint.pubkey(), decimals, self.faucet.pubkey(), None, token_program)
        self.setup([create, init], [mint])
        return mint.pubkey()

    def put_mint(
        self, address: Pubkey, decimals: int, *, token_program: Pubkey = TOKEN_PROGRAM
    ) -> Pubkey:
        """Write a mint at a chosen address (a real mainnet mint); the faucet can mint it.

        The native mint (wrapped SOL) gets no mint authority, as on mainnet: fund it with
        lamports (:meth:`fund` does).
        """
        authority = None if address == WSOL_MINT else self.faucet.pubkey()
        state = MintInfo(authority, 0, decimals, is_initialized=True, freeze_authority=None)
        self.put_account(address, encode_mint(state), token_program)
        return address

    def put_well_known_mints(self) -> dict[Token, Pubkey]:
        """Write the mints of SOL, USDC, USDT, BONK, JUP and RAY at their mainnet addresses."""
        return {t: self.put_mint(mint, t.decimals) for mint, t in well_known_mints().items()}

    def create_token_account(self, owner: Pubkey, mint: Pubkey) -> Pubkey:
        """Create owner's associated token account for mint (idempotent); return its address."""
        program = self.token_program_of(mint)
        ix = create_associated_token_account_idempotent(self.faucet.pubkey(), owner, mint, program)
        self.setup([ix])
        return associated_token_address(owner, mint, program)

    def fund(self, owner: Pubkey, mint: Pubkey, amount: int) -> Pubkey:
        """Give owner amount base units of mint in its associated token account; return it.

        Minted by the faucet, or for wrapped SOL paid in lamports and synced, as a wallet wraps.
        """
        account = self.create_token_account(owner, mint)
        if amount <= 0:
            return account
        program = self.token_program_of(mint)
        if mint == WSOL_MINT:
            pay = TransferParams(
                from_pubkey=self.faucet.pubkey(), to_pubkey=account, lamports=amount
            )
            ixs = [system_transfer(pay), sync_native(account, program)]
        else:
            ixs = [mint_to(mint, account, self.faucet.pubkey(), amount, program)]
        self.setup(ixs)
        return account

    def token_account(self, address: Pubkey) -> TokenAccountInfo:
        """Return the decoded token account at address."""
        return decode_token_account(self.account_data(address))

    def token_balance(self, address: Pubkey) -> int:
        """Return the amount held by the token account at address."""
        return self.token_account(address).amount

    def mint(self, address: Pubkey) -> MintInfo:
        """Return the decoded mint at address."""
        return decode_mint(self.account_data(address))

    def token_program_of(self, mint: Pubkey) -> Pubkey:
        """Return the token program that owns a mint (SPL Token or Token-2022)."""
        account = self.account(mint)
        if account is None:
            raise AccountNotFoundError(f"no mint at {mint}")
        return account.owner

    def read_pool(self, entry: PoolEntry) -> PoolSnapshot:
        """Read a pool's accounts as the engine's reader does, and snapshot it.

        :raises PoolStateError: when an account is missing or does not decode.
        """
        accounts: dict[Pubkey, AccountInfo | None] = {}
        while missing := [k for k in needed_keys(entry, accounts) if k not in accounts]:
            for key in missing:
                found = self.account(key)
                accounts[key] = (
                    None
                    if found is None
                    else AccountInfo(
                        found.lamports,
                        found.owner,
                        bytes(found.data),
                        found.executable,
                        found.rent_epoch,
                        len(found.data),
                    )
                )
        return snapshot(entry, accounts, slot=self.slot, unix_time=self.unix_time)

    # -- lookup tables ----------------------------------------------------------------------

    def create_lookup_table(
        self, addresses: Sequence[Pubkey], authority: Keypair | None = None
    ) -> Pubkey:
        """Create an address lookup table holding addresses, through its program; return it.

        The authority (the faucet by default) signs and pays. LiteSVM's SlotHashes does not
        follow its slot: the current slot is added to it, as a cluster would have it, so the
        table can be derived from it. The chain then moves one slot on: the addresses can be
        looked up from there (and the authority's next table gets another slot).
        """
        authority = authority or self.faucet
        slot = self.slot
        hashes = self.svm.get_slot_hashes()
        if all(known != slot for known, _ in hashes):
            # Newest first, as the program's search expects.
            recent = sorted([(slot, self.latest_blockhash()), *hashes], key=lambda h: -h[0])
            self.svm.set_slot_hashes(recent[:SLOT_HASHES_KEPT])
        owner = authority.pubkey()
        table, create = create_lookup_table(owner, owner, slot)
        self._setup_by(authority, [create])
        unique = list(dict.fromkeys(addresses))
        for at in range(0, len(unique), MAX_ADDRESSES_PER_EXTENSION):
            chunk = unique[at : at + MAX_ADDRESSES_PER_EXTENSION]
            self._setup_by(authority, [extend_lookup_table(table, owner, owner, chunk)])
        self.advance(slots=1)
        return table

    def _setup_by(self, payer: Keypair, instructions: Sequence[Instruction]) -> None:
        self.send(instructions, payer=payer).check()

    # -- transactions -----------------------------------------------------------------------

    def send(
        self,
        instructions: Sequence[Instruction],
        signers: Sequence[Keypair] = (),
        *,
        payer: Keypair | None = None,
        compute_unit_limit: int | None = None,
        compute_unit_price: int | None = None,
        memo_text: str | None = None,
    ) -> TxResult:
        """Sign instructions (payer first, the faucet by default) and send them.

        Compute-budget instructions go first and the memo last, as a wallet would put them.
        """
        fee_payer = payer or self.faucet
        prefix = []
        if compute_unit_limit is not None:
            prefix.append(set_compute_unit_limit(compute_unit_limit))
        if compute_unit_price is not None:
            prefix.append(set_compute_unit_price(compute_unit_price))
        suffix = [] if memo_text is None else [memo(memo_text, (fee_payer.pubkey(),))]
        blockhash = self.svm.latest_blockhash()
        message = Message.new_with_blockhash(
            [*prefix, *instructions, *suffix], fee_payer.pubkey(), blockhash
        )
        keys = [fee_payer, *(s for s in signers if s.pubkey() != fee_payer.pubkey())]
        return self.send_transaction(Transaction(list(dict.fromkeys(keys)), message, blockhash))

    def setup(
        self, instructions: Sequence[Instruction], signers: Sequence[Keypair] = ()
    ) -> TxResult:
        """Send a setup transaction paid by the faucet; it must land.

        A repeat of an identical setup transaction (the same funding twice in one slot) would
        be refused as already processed: it is sent again under a fresh blockhash.

        :raises TransactionFailedError: when it fails.
        """
        result = self.send(instructions, signers)
        if result.error is not None and result.error.message.endswith("AlreadyProcessed"):
            self.svm.expire_blockhash()
            result = self.send(instructions, signers)
        return result.check()

    def send_transaction(self, tx: Transaction | VersionedTransaction) -> TxResult:
        """Send a signed transaction; return its outcome with the token balances around it."""
        watched = writable_keys(tx, try_loaded(self.svm.get_account, tx.message).writable)
        pre = self.token_balances(watched)
        outcome = self.svm.send_transaction(tx)
        return build_result(outcome, pre, self.token_balances(watched))

    def token_balances(self, addresses: Iterable[Pubkey]) -> dict[Pubkey, TokenBalance]:
        """Return the balances of those addresses that are token accounts."""
        found = ((a, self.svm.get_account(a)) for a in addresses)
        return {a: b for a, acc in found if acc is not None and (b := token_balance_of(acc))}

"""The local chain wrapper: programs, clock, faucet, accounts and typed transaction results."""

from __future__ import annotations

import pytest
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction

from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.localchain.results import AccountNotFoundError, TransactionFailedError
from eterna.adapters.localchain.svm import GENESIS_UNIX_TIME, LocalChain
from eterna.adapters.solana.ids import (
    BONK_MINT,
    CPSWAP_PROGRAM,
    DLMM_PROGRAM,
    USDC_MINT,
    WHIRLPOOL_PROGRAM,
    WSOL_MINT,
)
from eterna.adapters.solana.spl import mint_to, transfer
from eterna.domain.tokens import BONK, SOL, USDC, WELL_KNOWN


def test_the_three_dex_programs_are_loaded_as_executables(chain: LocalChain) -> None:
    for program in (CPSWAP_PROGRAM, WHIRLPOOL_PROGRAM, DLMM_PROGRAM):
        account = chain.account(program)
        assert account is not None
        assert account.executable


def test_clock_starts_at_a_real_date_and_only_moves_forward(chain: LocalChain) -> None:
    assert chain.unix_time == GENESIS_UNIX_TIME
    slot, blockhash = chain.slot, chain.latest_blockhash()
    chain.advance(seconds=30)
    assert (chain.unix_time, chain.slot) == (GENESIS_UNIX_TIME + 30, slot)
    assert chain.latest_blockhash() == blockhash
    chain.advance(slots=5)
    assert chain.slot == slot + 5
    assert chain.latest_blockhash() != blockhash
    chain.set_time(GENESIS_UNIX_TIME + 1_000)
    assert chain.unix_time == GENESIS_UNIX_TIME + 1_000
    with pytest.raises(ValueError, match="forward"):
        chain.advance(seconds=-1)


def test_keypairs_follow_the_seed(program_files: list[ProgramFile]) -> None:
    one, two = LocalChain(program_files), LocalChain(program_files)
    assert one.new_keypair().pubkey() == two.new_keypair().pubkey()
    other = LocalChain(program_files, seed=b"other")
    assert other.faucet.pubkey() != one.faucet.pubkey()


def test_well_known_mints_sit_at_their_mainnet_addresses_with_real_decimals(
    chain: LocalChain,
) -> None:
    mints = chain.put_well_known_mints()
    assert set(mints) == set(WELL_KNOWN)
    assert mints[USDC] == USDC_MINT
    assert chain.mint(BONK_MINT).decimals == BONK.decimals
    assert chain.mint(USDC_MINT).mint_authority == chain.faucet.pubkey()
    assert chain.mint(WSOL_MINT).mint_authority is None
    assert chain.mint(WSOL_MINT).decimals == SOL.decimals


def test_a_successful_transaction_reports_signature_cost_and_token_changes(
    chain: LocalChain,
) -> None:
    chain.put_well_known_mints()
    alice, bob = chain.new_wallet(), chain.new_wallet()
    src = chain.fund(alice.pubkey(), USDC_MINT, 1_000)
    dst = chain.create_token_account(bob.pubkey(), USDC_MINT)
    result = chain.send(
        [transfer(src, dst, alice.pubkey(), 250)],
        payer=alice,
        compute_unit_limit=50_000,
        compute_unit_price=1_000,
        memo_text="order abc",
    ).check()
    assert result.ok
    assert result.compute_units > 0
    assert result.fee >= 5_000
    assert any("order abc" in line for line in result.logs)
    assert result.pre_token_balances[src].amount == 1_000
    assert result.post_token_balances[dst].amount == 250
    assert result.post_token_balances[dst].owner == bob.pubkey()
    assert (result.token_change(src), result.token_change(dst)) == (-250, 250)
    assert result.token_change(Pubkey.new_unique()) == 0


def test_a_failed_transaction_reports_the_program_error_and_changes_nothing(
    chain: LocalChain,
) -> None:
    chain.put_well_known_mints()
    alice, bob = chain.new_wallet(), chain.new_wallet()
    src = chain.fund(alice.pubkey(), USDC_MINT, 100)
    dst = chain.create_token_account(bob.pubkey(), USDC_MINT)
    # Pay 10, then overdraw: the second instruction fails, so the first is undone too.
    result = chain.send(
        [transfer(src, dst, alice.pubkey(), 10), transfer(src, dst, alice.pubkey(), 1_000)],
        payer=alice,
    )
    assert not result.ok
    assert result.error is not None
    assert result.error.instruction_index == 1
    assert result.error.custom_code == 1  # SPL Token's InsufficientFunds
    assert result.token_change(src) == 0
    assert (chain.token_balance(src), chain.token_balance(dst)) == (100, 0)
    with pytest.raises(TransactionFailedError, match="failed"):
        result.check()


def test_a_transaction_signed_elsewhere_is_sent_as_is_and_a_replay_is_refused(
    chain: LocalChain,
) -> None:
    mint = chain.create_mint(6)
    wallet = chain.new_wallet()
    account = chain.create_token_account(wallet.pubkey(), mint)
    ix = mint_to(mint, account, chain.faucet.pubkey(), 5)
    blockhash = chain.latest_blockhash()
    message = Message.new_with_blockhash([ix], chain.faucet.pubkey(), blockhash)
    tx = Transaction([chain.faucet], message, blockhash)
    first = chain.send_transaction(tx).check()
    assert first.signature == tx.signatures[0]
    again = chain.send_transaction(tx)
    assert again.error is not None
    assert "AlreadyProcessed" in again.error.message
    assert chain.token_balance(account) == 5


def test_reading_a_missing_account_raises_a_typed_error(chain: LocalChain) -> None:
    missing = Pubkey.new_unique()
    assert chain.account(missing) is None
    with pytest.raises(AccountNotFoundError):
        chain.account_data(missing)
    with pytest.raises(AccountNotFoundError):
        chain.fund(Pubkey.new_unique(), missing, 1)


def test_funding_the_same_amount_twice_in_one_slot_lands_both(chain: LocalChain) -> None:
    mint = chain.create_mint(6)
    owner = Pubkey.new_unique()
    chain.fund(owner, mint, 10)
    account = chain.fund(owner, mint, 10)
    assert chain.token_balance(account) == 20

"""SPL Token layouts and instructions, checked against the token programs LiteSVM runs."""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address

from eterna.adapters.localchain.svm import LocalChain
from eterna.adapters.solana.anchor import AccountLayoutError
from eterna.adapters.solana.ids import TOKEN_2022_PROGRAM, USDC_MINT, WSOL_MINT
from eterna.adapters.solana.spl import (
    AccountState,
    MintInfo,
    TokenAccountInfo,
    associated_token_address,
    close_account,
    decode_mint,
    decode_token_account,
    encode_mint,
    encode_token_account,
    memo,
    sync_native,
    transfer,
    transfer_checked,
)


def test_mint_written_by_the_token_program_decodes_and_reencodes_byte_for_byte(
    chain: LocalChain,
) -> None:
    mint = chain.create_mint(7)
    data = chain.account_data(mint)
    info = decode_mint(data)
    assert info == MintInfo(chain.faucet.pubkey(), 0, 7, is_initialized=True, freeze_authority=None)
    assert encode_mint(info) == data


def test_token_account_written_by_the_token_program_decodes_and_reencodes(
    chain: LocalChain,
) -> None:
    mint = chain.create_mint(6)
    owner = Pubkey.new_unique()
    account = chain.fund(owner, mint, 1_234)
    data = chain.account_data(account)
    info = decode_token_account(data)
    assert (info.mint, info.owner, info.amount) == (mint, owner, 1_234)
    assert info.state is AccountState.INITIALIZED
    assert info.native_reserve is None
    assert encode_token_account(info) == data


def test_associated_token_address_is_the_one_the_ata_program_creates(chain: LocalChain) -> None:
    mint = chain.create_mint(6)
    owner = Pubkey.new_unique()
    created = chain.create_token_account(owner, mint)
    assert created == associated_token_address(owner, mint)
    assert created == get_associated_token_address(owner, mint)
    assert chain.create_token_account(owner, mint) == created  # idempotent


def test_token_2022_mint_and_account_use_their_own_program(chain: LocalChain) -> None:
    mint = chain.create_mint(9, token_program=TOKEN_2022_PROGRAM)
    owner = Pubkey.new_unique()
    account = chain.fund(owner, mint, 50)
    assert account == associated_token_address(owner, mint, TOKEN_2022_PROGRAM)
    assert chain.account(account) is not None
    assert chain.token_balance(account) == 50


def test_wrapped_sol_is_funded_in_lamports_synced_and_unwrapped_on_close(chain: LocalChain) -> None:
    chain.put_well_known_mints()
    wallet = chain.new_wallet()
    account = chain.fund(wallet.pubkey(), WSOL_MINT, 3 * 10**9)
    info = chain.token_account(account)
    assert info.amount == 3 * 10**9
    assert info.native_reserve == chain.rent_exempt(165)
    before = chain.lamports(wallet.pubkey())
    result = chain.send([close_account(account, wallet.pubkey(), wallet.pubkey())], payer=wallet)
    assert result.check().token_change(account) == -(3 * 10**9)
    assert chain.account(account) is None
    assert chain.lamports(wallet.pubkey()) == before + 3 * 10**9 + info.native_reserve - result.fee


def test_sync_native_counts_lamports_sent_to_a_wrapped_sol_account(chain: LocalChain) -> None:
    chain.put_well_known_mints()
    wallet = chain.new_wallet()
    account = chain.fund(wallet.pubkey(), WSOL_MINT, 0)
    chain.airdrop(account, 777)
    assert chain.token_balance(account) == 0
    chain.send([sync_native(account)]).check()
    assert chain.token_balance(account) == 777


def test_transfer_and_transfer_checked_move_tokens_and_a_wrong_decimals_fails(
    chain: LocalChain,
) -> None:
    chain.put_well_known_mints()
    alice, bob = chain.new_wallet(), chain.new_wallet()
    src = chain.fund(alice.pubkey(), USDC_MINT, 1_000)
    dst = chain.create_token_account(bob.pubkey(), USDC_MINT)
    moved = chain.send([transfer(src, dst, alice.pubkey(), 400)], payer=alice).check()
    assert (moved.token_change(src), moved.token_change(dst)) == (-400, 400)
    checked = transfer_checked(src, USDC_MINT, dst, alice.pubkey(), amount=100, decimals=6)
    chain.send([checked], payer=alice).check()
    wrong = transfer_checked(src, USDC_MINT, dst, alice.pubkey(), amount=100, decimals=9)
    failed = chain.send([wrong], payer=alice)
    assert not failed.ok
    assert failed.error is not None
    assert failed.error.instruction_index == 0
    assert (chain.token_balance(src), chain.token_balance(dst)) == (500, 500)


def test_memo_lands_in_the_logs_signed_by_its_signer(chain: LocalChain) -> None:
    wallet = chain.new_wallet()
    result = chain.send([memo("order 42", (wallet.pubkey(),))], payer=wallet).check()
    assert any('"order 42"' in line or "order 42" in line for line in result.logs)


def test_decoders_refuse_short_data() -> None:
    with pytest.raises(AccountLayoutError, match="a mint is 82 bytes"):
        decode_mint(bytes(50))
    with pytest.raises(AccountLayoutError, match="a token account is 165 bytes"):
        decode_token_account(bytes(82))


def test_token_account_with_delegate_native_reserve_and_close_authority_round_trips() -> None:
    info = TokenAccountInfo(
        mint=WSOL_MINT,
        owner=Pubkey.new_unique(),
        amount=5,
        delegate=Pubkey.new_unique(),
        state=AccountState.FROZEN,
        native_reserve=2_039_280,
        delegated_amount=3,
        close_authority=Pubkey.new_unique(),
    )
    assert decode_token_account(encode_token_account(info)) == info

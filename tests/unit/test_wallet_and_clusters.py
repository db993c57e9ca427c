"""The deployment wallet, the cluster table and the execution rules (dry run, simulation).

The wallet file is refused when others may read it, and its secret appears in no repr, str,
error or log line; the cluster comes from the genesis hash; dry run is the default on devnet
and mainnet until ETERNA_LIVE=true.
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.adapters.localchain.rpc_params import b58encode
from eterna.adapters.solana.clusters import (
    PROGRAM_IDS,
    Cluster,
    ClusterMismatchError,
    UnsupportedClusterError,
    cluster_of,
    programs_on,
    resolve_cluster,
)
from eterna.adapters.solana.cpswap import ErrorCode as CpswapError
from eterna.adapters.solana.failures import describe, failure_kind
from eterna.adapters.solana.ids import CPSWAP_PROGRAM, DLMM_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.adapters.solana.landing import (
    TRANSFER_FEE_CONFIG,
    LandingConfig,
    charges_transfer_fee,
    compute_limit,
    mint_extensions,
    priority_fee,
)
from eterna.adapters.solana.rpc import AccountInfo, PrioritizationFee, TxErr
from eterna.adapters.solana.wallet import Wallet, WalletFileError, load_wallet
from eterna.domain.failures import FailureKind
from eterna.entrypoints.cli import main
from eterna.entrypoints.config import Settings
from eterna.entrypoints.execution import WalletRequiredError, execution_of, wallet_of

MAINNET_GENESIS = Hash.from_string("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d")
DEVNET_GENESIS = Hash.from_string("EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG")
TOKEN_2022 = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")


def keypair_file(tmp_path: Path, keypair: Keypair, mode: int = 0o600) -> Path:
    path = tmp_path / "wallet.json"
    path.write_text(json.dumps(list(bytes(keypair))), encoding="utf-8")
    path.chmod(mode)
    return path


def secrets_of(keypair: Keypair) -> list[str]:
    """Return the ways a secret could be spelled in text."""
    raw = bytes(keypair)
    return [
        str(list(raw)),
        str(list(raw[:32])),
        raw.hex(),
        raw[:32].hex(),
        b58encode(raw),
        str(keypair),
    ]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o700 | 0o020])
def test_a_wallet_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = keypair_file(tmp_path, Keypair(), mode)
    with pytest.raises(WalletFileError, match="chmod 600"):
        load_wallet(path)


def test_a_private_wallet_file_is_read(tmp_path: Path) -> None:
    keypair = Keypair()
    assert load_wallet(keypair_file(tmp_path, keypair, 0o400)).pubkey == keypair.pubkey()
    assert load_wallet(keypair_file(tmp_path, keypair, 0o600)).pubkey == keypair.pubkey()


def test_the_secret_is_in_no_repr_str_error_or_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keypair = Keypair()
    path = keypair_file(tmp_path, keypair)
    wallet = load_wallet(path)
    settings = Settings(wallet=path, data_dir=tmp_path)
    caplog.set_level(logging.DEBUG)
    execution = execution_of(settings, Cluster.MAINNET)
    logging.getLogger("eterna.test").warning("%s %r %s", wallet, wallet, execution.banner(wallet))
    texts = [repr(wallet), str(wallet), repr(settings), str(settings), caplog.text]
    # A corrupted file: the error names the file, never its content.
    raw = bytes(keypair)
    path.write_text(json.dumps(list(raw[:63])), encoding="utf-8")
    with pytest.raises(WalletFileError) as short:
        load_wallet(path)
    path.write_text(str(list(raw))[:-1], encoding="utf-8")  # not JSON any more
    with pytest.raises(WalletFileError) as broken:
        load_wallet(path)
    texts += [str(short.value), str(broken.value), repr(broken.value)]
    for text in texts:
        for secret in secrets_of(keypair):
            assert secret not in text
    assert str(keypair.pubkey()) in repr(wallet)
    with pytest.raises(TypeError):
        pickle.dumps(wallet)


def test_a_live_cluster_needs_a_wallet_and_the_local_chain_has_its_own(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(WalletRequiredError, match="ETERNA_WALLET"):
        wallet_of(settings, Cluster.MAINNET)
    local = wallet_of(settings, Cluster.LOCALNET)
    assert isinstance(local, Wallet)
    keypair = Keypair()
    given = Settings(data_dir=tmp_path, wallet=keypair_file(tmp_path, keypair))
    assert wallet_of(given, Cluster.DEVNET).pubkey == keypair.pubkey()


def test_the_cluster_is_told_by_its_genesis_hash() -> None:
    assert cluster_of(MAINNET_GENESIS) is Cluster.MAINNET
    assert cluster_of(DEVNET_GENESIS) is Cluster.DEVNET
    assert cluster_of(Hash.new_unique()) is Cluster.LOCALNET
    assert resolve_cluster(Cluster.DEVNET, DEVNET_GENESIS) is Cluster.DEVNET
    with pytest.raises(ClusterMismatchError, match="mainnet"):
        resolve_cluster(Cluster.DEVNET, MAINNET_GENESIS)
    with pytest.raises(ClusterMismatchError):
        resolve_cluster(Cluster.MAINNET, Hash.new_unique())
    with pytest.raises(UnsupportedClusterError):
        programs_on(Cluster.TESTNET)


def test_program_ids_differ_on_devnet_for_cp_swap_only() -> None:
    mainnet, devnet, local = (
        PROGRAM_IDS[c] for c in (Cluster.MAINNET, Cluster.DEVNET, Cluster.LOCALNET)
    )
    assert mainnet.by_venue() == {
        "raydium": CPSWAP_PROGRAM,
        "orca": WHIRLPOOL_PROGRAM,
        "meteora": DLMM_PROGRAM,
    }
    assert local == mainnet
    assert devnet.raydium == Pubkey.from_string("DRaycpLY18LhpbydsBWbVJtxpNv9oXPgjRSfpF2bWpYb")
    assert (devnet.orca, devnet.meteora) == (mainnet.orca, mainnet.meteora)


@pytest.mark.parametrize(
    ("cluster", "dry_run", "live", "simulate", "expected"),
    [
        (Cluster.LOCALNET, False, False, True, (False, True)),
        (Cluster.LOCALNET, False, False, False, (False, False)),
        (Cluster.LOCALNET, True, False, False, (True, True)),  # a dry run simulates
        (Cluster.MAINNET, False, False, True, (True, True)),
        (Cluster.MAINNET, False, True, False, (False, True)),  # never unsimulated live
        (Cluster.DEVNET, False, True, True, (False, True)),
        (Cluster.DEVNET, True, True, True, (True, True)),  # dry run wins
    ],
)
def test_dry_run_is_the_default_on_live_clusters(
    cluster: Cluster,
    dry_run: bool,
    live: bool,
    simulate: bool | None,
    expected: tuple[bool, bool],
) -> None:
    settings = Settings(dry_run=dry_run, live=live, simulate=simulate)
    execution = execution_of(settings, cluster)
    assert (execution.dry_run, execution.simulate) == expected
    landing = execution.landing(settings)
    assert (landing.dry_run, landing.simulate) == expected


def test_the_banner_says_loudly_what_the_process_does() -> None:
    wallet = Wallet(Keypair())
    dry = execution_of(Settings(), Cluster.MAINNET).banner(wallet)
    assert "DRY RUN on mainnet" in dry
    assert "NOTHING IS SENT" in dry
    assert "ETERNA_LIVE=true" in dry
    live = execution_of(Settings(live=True), Cluster.MAINNET).banner(wallet)
    assert "LIVE TRADING on mainnet" in live
    assert str(wallet.pubkey) in live


def mint_data(extensions: list[tuple[int, bytes]]) -> bytes:
    """Return a Token-2022 mint's data with the given extensions (type, value)."""
    data = bytearray(82) + bytearray(165 - 82) + bytes([1])
    for kind, value in extensions:
        data += kind.to_bytes(2, "little") + len(value).to_bytes(2, "little") + value
    return bytes(data)


def account(owner: Pubkey, data: bytes) -> AccountInfo:
    return AccountInfo(
        lamports=1, owner=owner, data=data, executable=False, rent_epoch=0, space=len(data)
    )


def test_a_token_2022_mint_with_a_transfer_fee_is_told_apart() -> None:
    fee_config = bytes(108)
    metadata_pointer = bytes(64)
    with_fee = mint_data([(18, metadata_pointer), (TRANSFER_FEE_CONFIG, fee_config)])
    assert mint_extensions(with_fee) == [18, TRANSFER_FEE_CONFIG]
    assert charges_transfer_fee(account(TOKEN_2022, with_fee))
    assert not charges_transfer_fee(account(TOKEN_2022, mint_data([(18, metadata_pointer)])))
    assert not charges_transfer_fee(account(TOKEN_2022, bytes(82)))  # no extension at all
    assert not charges_transfer_fee(account(TOKEN, with_fee))  # the classic program has none
    assert charges_transfer_fee(account(TOKEN_2022, with_fee[:-10]))  # unreadable: refused


def test_the_priority_fee_is_a_capped_percentile_and_the_limit_has_a_margin() -> None:
    fees = [PrioritizationFee(slot, fee) for slot, fee in enumerate([0, 0, 100, 200, 5_000])]
    assert priority_fee(fees, 50, 1_000_000) == 100
    assert priority_fee(fees, 75, 1_000_000) == 200
    assert priority_fee(fees, 100, 1_000) == 1_000
    assert priority_fee([], 75, 1_000) == 0
    assert compute_limit(40_000, 20, 1_400_000) == 48_000
    assert compute_limit(1_300_000, 20, 1_400_000) == 1_400_000
    with pytest.raises(ValueError, match="simulates"):
        LandingConfig(simulate=False, dry_run=True)
    with pytest.raises(ValueError, match="percentile"):
        LandingConfig(priority_fee_percentile=101)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_a_shared_wallet_file_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    keypair = Keypair()
    path = keypair_file(tmp_path, keypair, 0o644)
    monkeypatch.setenv("ETERNA_WALLET", str(path))
    monkeypatch.setenv("ETERNA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ETERNA_SYSTEM_ALLOCATOR", "false")  # serve would re-exec itself
    for name in ("DATABASE_URL", "REDIS_URL", "ETERNA_SOLANA_RPC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("eterna.entrypoints.cli._programs_or_exit", lambda *_: None)
    with pytest.raises(SystemExit) as refused:
        main([command, "--port", "1"] if command == "serve" else [command])
    message = str(refused.value.code)
    assert message.startswith(f"eterna {command}: the keypair file {path} is accessible")
    assert "chmod 600" in message
    for secret in secrets_of(keypair):
        assert secret not in message
    assert not (tmp_path / "data").exists()  # refused before anything started


def test_failures_are_read_on_the_devnet_cp_swap_too() -> None:
    devnet_cpswap = PROGRAM_IDS[Cluster.DEVNET].raydium
    slipped = TxErr("InstructionError", 5, "Custom", CpswapError.EXCEEDED_SLIPPAGE)
    assert failure_kind(slipped, devnet_cpswap) is FailureKind.SLIPPAGE
    assert failure_kind(slipped, CPSWAP_PROGRAM) is FailureKind.SLIPPAGE
    assert "(raydium)" in describe(slipped, devnet_cpswap, FailureKind.SLIPPAGE)
    assert failure_kind(slipped, Pubkey.new_unique()) is FailureKind.TRANSACTION_FAILED

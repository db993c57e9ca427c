"""The local chain from the settings: what `eterna chain` serves and the embedded mode runs."""

from __future__ import annotations

from eterna.adapters.localchain.faults import FaultSettings
from eterna.adapters.localchain.genesis import load_keypair
from eterna.adapters.localchain.node import LocalNode, NodeConfig
from eterna.adapters.localchain.programs import locate_programs
from eterna.entrypoints.config import Settings


def node_config(settings: Settings) -> NodeConfig:
    """Return the node's configuration: seed, slots, drift, launches and faults."""
    faults = FaultSettings(
        latency_ms=settings.chain_latency_ms,
        error_rate=settings.chain_error_rate,
        drop_rate=settings.chain_drop_rate,
        expire_rate=settings.chain_expire_rate,
        price_move_rate=settings.chain_price_move_rate,
        price_move_bps=settings.chain_price_move_bps,
    )
    return NodeConfig(
        seed=settings.chain_seed,
        slot_ms=settings.chain_slot_ms,
        drift=settings.chain_drift,
        launch_every_seconds=settings.chain_launch_seconds,
        faults=faults,
    )


def build_local_node(settings: Settings) -> LocalNode:
    """Return the local chain at genesis, Eterna's wallet funded.

    :raises ProgramsError: when the program binaries are missing or another build.
    :raises WalletFileError: when the wallet keypair file cannot be read.
    """
    programs = locate_programs(settings.programs_dir, data_dir=settings.data_dir)
    wallet = None if settings.wallet is None else load_keypair(settings.wallet)
    return LocalNode(programs, node_config(settings), wallet=wallet)

"""How this deployment executes orders: which cluster, which wallet, live or dry run.

The rules, in one place:

- The cluster is the one the RPC node's genesis hash names (``ETERNA_SOLANA_CLUSTER``, when
  set, must agree); the local chain is ``localnet``.
- **Dry run** (simulate, send nothing, end each order with its simulated fill) is on when
  ``ETERNA_DRY_RUN=true``, and on devnet and mainnet unless ``ETERNA_LIVE=true``: pointing a
  deployment at a real cluster never spends anything by itself. ``ETERNA_DRY_RUN=true``
  wins over ``ETERNA_LIVE=true``.
- **Simulation before every send** is on by default everywhere. ``ETERNA_SIMULATE=false``
  switches it off on the local chain only (a benchmark of the engine alone; it costs the
  worker 0.5-1.6 ms of CPU per order, docs/performance.md); on devnet, mainnet and in a dry
  run it cannot be switched off.
- **The wallet** is ``ETERNA_WALLET``; on the local chain, unset, the chain seed's wallet
  (funded at genesis). A live cluster without ``ETERNA_WALLET`` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from eterna.adapters.localchain.genesis import wallet_keypair
from eterna.adapters.solana.clusters import Cluster
from eterna.adapters.solana.landing import LandingConfig
from eterna.adapters.solana.wallet import Wallet, WalletFileError, load_wallet
from eterna.entrypoints.config import Settings

LINE: Final = "=" * 78


class WalletRequiredError(WalletFileError):
    """A live cluster needs ETERNA_WALLET: there is no chain seed's wallet there."""


@dataclass(frozen=True, slots=True)
class Execution:
    """The cluster, and whether orders are simulated only, and simulated before sending."""

    cluster: Cluster
    dry_run: bool
    simulate: bool

    def landing(self, settings: Settings) -> LandingConfig:
        """Return the gateway's landing configuration."""
        return LandingConfig(
            simulate=self.simulate,
            priority_fee_percentile=settings.priority_fee_percentile,
            max_priority_fee=settings.max_priority_fee_microlamports,
            compute_unit_margin_percent=settings.compute_unit_margin_percent,
            dry_run=self.dry_run,
        )

    @property
    def loud(self) -> bool:
        """Tell whether start-up must say it loudly: a dry run, or real funds at stake."""
        return self.dry_run or self.cluster.live

    def banner(self, wallet: Wallet) -> str:
        """Return what a process logs at start-up: live or dry run, where, which wallet."""
        checks = (
            "each transaction simulated before it is sent"
            if self.simulate
            else "transactions sent without a simulation first"
        )
        where = f"on {self.cluster.value}, wallet {wallet.pubkey}"
        if not self.loud:
            return f"trading on the local chain, wallet {wallet.pubkey}: {checks}"
        if self.dry_run:
            head = f"DRY RUN {where}: orders are simulated and end with the simulated fill;"
            tail = "NOTHING IS SENT" + (
                " (ETERNA_LIVE=true sends real transactions)" if self.cluster.live else ""
            )
        else:
            head = f"LIVE TRADING {where}: orders send REAL transactions that spend real funds;"
            tail = checks
        return f"{LINE}\n{head}\n{tail}\n{LINE}"


def execution_of(settings: Settings, cluster: Cluster) -> Execution:
    """Return how orders execute on the cluster under the settings (module docstring)."""
    dry_run = settings.dry_run or (cluster.live and not settings.live)
    simulate = cluster.live or dry_run or settings.simulate
    return Execution(cluster=cluster, dry_run=dry_run, simulate=simulate)


def wallet_of(settings: Settings, cluster: Cluster) -> Wallet:
    """Return the deployment wallet: ETERNA_WALLET's, else (local chain) the chain seed's.

    :raises WalletFileError: when the keypair file cannot be used.
    :raises WalletRequiredError: on a live cluster without ETERNA_WALLET.
    """
    if settings.wallet is not None:
        return load_wallet(settings.wallet)
    if cluster.live:
        raise WalletRequiredError(
            f"ETERNA_WALLET is required on {cluster.value}: the keypair file of the "
            "deployment wallet that signs every order"
        )
    return Wallet(wallet_keypair(settings.chain_seed))

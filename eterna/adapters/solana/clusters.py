"""Which Solana cluster a node serves, and the DEX programs' ids there: one table.

A cluster is told by its genesis hash (``getGenesisHash``), which never changes: mainnet-beta,
devnet and testnet have well-known ones. Any other hash is a local cluster - ``eterna chain``
or a test validator - where the programs run at their mainnet ids (the local chain loads the
mainnet builds there). A configured cluster (``ETERNA_SOLANA_CLUSTER``) must agree with the
node's hash: an engine told "devnet" must not sign on mainnet.

Program ids, from the programs' own sources: Raydium CP-Swap declares
``DRaycpLY18LhpbydsBWbVJtxpNv9oXPgjRSfpF2bWpYb`` under its ``devnet`` feature and
``CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C`` otherwise (raydium-io/raydium-cp-swap,
``programs/cp-swap/src/lib.rs``); Orca Whirlpool and Meteora DLMM are deployed at the same
address on mainnet and devnet (``whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc``, the
Whirlpools SDK's ``WHIRLPOOL_PROGRAM_ID``; ``LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo``, the
DLMM SDK's ``LBCLMM_PROGRAM_IDS`` for both). Testnet has none of the three.

Every part that recognises a pool takes the cluster's :class:`ProgramIds` - the pools file's
validation and discovery, the programs' subscriptions, the pool reader's dispatch, account
dumps, the swap builder - so a devnet CP-Swap pool is one owned by devnet's id, and a pool
owned by another cluster's id (mainnet's CP-Swap on devnet) is refused as no DEX program there.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from solders.hash import Hash
from solders.pubkey import Pubkey

from eterna.adapters.solana.ids import CPSWAP_PROGRAM, DLMM_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.domain.errors import EternaError


class Cluster(enum.Enum):
    """A Solana cluster (the value is how settings and logs spell it)."""

    MAINNET = "mainnet"
    DEVNET = "devnet"
    TESTNET = "testnet"
    LOCALNET = "localnet"

    @property
    def live(self) -> bool:
        """Tell whether the cluster is a public one, where transactions cost real fees."""
        return self is not Cluster.LOCALNET


class ClusterMismatchError(EternaError):
    """The configured cluster is not the one the node serves."""


class UnsupportedClusterError(EternaError):
    """The cluster does not run the DEX programs Eterna trades."""


GENESIS_HASHES: Final[Mapping[Hash, Cluster]] = MappingProxyType(
    {
        Hash.from_string("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"): Cluster.MAINNET,
        Hash.from_string("EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"): Cluster.DEVNET,
        Hash.from_string("4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY"): Cluster.TESTNET,
    }
)


@dataclass(frozen=True, slots=True)
class ProgramIds:
    """The DEX programs' addresses on one cluster, by venue."""

    raydium: Pubkey
    orca: Pubkey
    meteora: Pubkey

    def by_venue(self) -> dict[str, Pubkey]:
        """Return the ids by venue name, as routes name venues."""
        return {"raydium": self.raydium, "orca": self.orca, "meteora": self.meteora}

    def venue_of(self, program: Pubkey) -> str | None:
        """Return the venue whose program has this id here (None: no DEX program here)."""
        return next((v for v, p in self.by_venue().items() if p == program), None)

    def program_of(self, venue: str) -> Pubkey:
        """Return the venue's program id here.

        :raises KeyError: for a venue Eterna does not trade.
        """
        return self.by_venue()[venue]


MAINNET_PROGRAMS: Final = ProgramIds(
    raydium=CPSWAP_PROGRAM, orca=WHIRLPOOL_PROGRAM, meteora=DLMM_PROGRAM
)
_MAINNET = MAINNET_PROGRAMS

PROGRAM_IDS: Final[Mapping[Cluster, ProgramIds]] = MappingProxyType(
    {
        Cluster.MAINNET: _MAINNET,
        Cluster.DEVNET: ProgramIds(
            raydium=Pubkey.from_string("DRaycpLY18LhpbydsBWbVJtxpNv9oXPgjRSfpF2bWpYb"),
            orca=WHIRLPOOL_PROGRAM,
            meteora=DLMM_PROGRAM,
        ),
        # The local chain loads the mainnet builds at their mainnet ids.
        Cluster.LOCALNET: _MAINNET,
    }
)


def programs_on(cluster: Cluster) -> ProgramIds:
    """Return the DEX programs' ids on a cluster.

    :raises UnsupportedClusterError: for a cluster without them (testnet).
    """
    try:
        return PROGRAM_IDS[cluster]
    except KeyError:
        raise UnsupportedClusterError(
            f"the DEX programs Eterna trades are not deployed on {cluster.value}"
        ) from None


def clusters_running(program: Pubkey) -> list[Cluster]:
    """Return the clusters where the id is one of the DEX programs (to say why one is refused)."""
    return [c for c, ids in PROGRAM_IDS.items() if ids.venue_of(program) is not None]


def is_venue_program(venue: str, program: Pubkey) -> bool:
    """Tell whether the id is the venue's program on some cluster Eterna trades on."""
    return any(ids.by_venue().get(venue) == program for ids in PROGRAM_IDS.values())


def cluster_of(genesis_hash: Hash) -> Cluster:
    """Return the cluster a genesis hash names (any unknown hash is a local cluster)."""
    return GENESIS_HASHES.get(genesis_hash, Cluster.LOCALNET)


def resolve_cluster(configured: Cluster | None, genesis_hash: Hash) -> Cluster:
    """Return the node's cluster, checked against the configured one when there is one.

    :raises ClusterMismatchError: when the configured cluster is not the node's.
    """
    found = cluster_of(genesis_hash)
    if configured is not None and configured is not found:
        raise ClusterMismatchError(
            f"ETERNA_SOLANA_CLUSTER is {configured.value}, but the node at the RPC URL serves "
            f"{found.value} (genesis hash {genesis_hash})"
        )
    return found

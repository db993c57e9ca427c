"""Account dumps: pool accounts read from a cluster, kept as files to load into the local chain.

A dump is a folder:

- ``accounts/<address>.json``, one account each in the form ``solana account --output json``
  and the test validators' ``--account`` flag use (``{"pubkey", "account": {"lamports",
  "data": [base64, "base64"], "owner", "executable", "rentEpoch", "space"}}``), so dumps
  made by other tools load as they are;
- ``snapshot.json``, the manifest: which accounts are pools (``pools``), the tokens of mints
  the dump lacks (``mints``: decimals and symbol), where the accounts were read (``cluster``,
  ``slot`` when known) and, for a CP-Swap pool whose vaults were not dumped, the reserves
  its vaults held (``reserves``);
- ``SOURCE.md``, in words: where the accounts come from.

:func:`write_dump` writes one (``eterna snapshots fetch`` does, from ``getMultipleAccounts``);
:func:`read_dump` reads one back. The local chain's loader
(:mod:`eterna.adapters.localchain.mainnet_pools`) puts a dump's accounts on the chain.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from solders.pubkey import Pubkey

from eterna.adapters.solana import cpswap
from eterna.adapters.solana.clusters import ProgramIds
from eterna.adapters.solana.discovery import pool_mints
from eterna.adapters.solana.dlmm import decode_lb_pair
from eterna.adapters.solana.pools import PoolEntry
from eterna.adapters.solana.rpc import AccountInfo, Commitment, SolanaRpc
from eterna.adapters.solana.snapshots import needed_keys
from eterna.adapters.solana.spl import decode_mint
from eterna.adapters.solana.whirlpool import oracle_address as whirlpool_oracle_address
from eterna.domain.errors import EternaError
from eterna.domain.tokens import Token

MANIFEST: Final = "snapshot.json"
ACCOUNTS_DIR: Final = "accounts"
# What the RPC reports as the rent epoch of a rent-exempt account.
RENT_EXEMPT_EPOCH: Final = 2**64 - 1


class DumpError(EternaError):
    """A dump folder or one of its files is missing or malformed."""


@dataclass(frozen=True, slots=True)
class DumpedAccount:
    """One account as the cluster returned it."""

    address: Pubkey
    lamports: int
    data: bytes
    owner: Pubkey
    executable: bool = False
    rent_epoch: int = RENT_EXEMPT_EPOCH

    def to_json(self) -> dict[str, Any]:
        """Return the keyed-account JSON form (see the module docstring)."""
        return {
            "pubkey": str(self.address),
            "account": {
                "lamports": self.lamports,
                "data": [base64.b64encode(self.data).decode("ascii"), "base64"],
                "owner": str(self.owner),
                "executable": self.executable,
                "rentEpoch": self.rent_epoch,
                "space": len(self.data),
            },
        }

    @classmethod
    def from_json(cls, raw: Any) -> DumpedAccount:
        """Read the keyed-account JSON form.

        :raises DumpError: when a field is missing or malformed.
        """
        try:
            account = raw["account"]
            encoded, encoding = account["data"]
            if encoding != "base64":
                raise DumpError(f"account data must be base64, not {encoding!r}")
            return cls(
                address=Pubkey.from_string(raw["pubkey"]),
                lamports=_natural(account["lamports"]),
                data=base64.b64decode(encoded, validate=True),
                owner=Pubkey.from_string(account["owner"]),
                executable=bool(account.get("executable", False)),
                rent_epoch=_natural(account.get("rentEpoch", RENT_EXEMPT_EPOCH)),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise DumpError(f"not a dumped account: {exc!r}") from None


def _natural(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a natural number")
    return value


@dataclass(frozen=True, slots=True)
class MintNote:
    """What a dump says of a mint it does not hold: its decimals and symbol."""

    decimals: int
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class Dump:
    """A dump read back: its accounts by address and its manifest."""

    accounts: Mapping[Pubkey, DumpedAccount]
    pools: tuple[Pubkey, ...]
    mints: Mapping[Pubkey, MintNote] = field(default_factory=dict)
    reserves: Mapping[Pubkey, tuple[int, int]] = field(default_factory=dict)
    cluster: str | None = None
    slot: int | None = None


def read_dump(folder: Path) -> Dump:
    """Read the dump in folder.

    :raises DumpError: when the manifest or an account file is missing or malformed, or a
        pool the manifest names is not among the accounts.
    """
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise DumpError(f"{manifest_path}: {exc}") from None
    accounts: dict[Pubkey, DumpedAccount] = {}
    files = sorted((folder / ACCOUNTS_DIR).glob("*.json"))
    if not files:
        raise DumpError(f"{folder / ACCOUNTS_DIR} holds no account files")
    for path in files:
        try:
            account = DumpedAccount.from_json(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise DumpError(f"{path}: {exc}") from None
        except DumpError as exc:
            raise DumpError(f"{path}: {exc}") from None
        accounts[account.address] = account
    try:
        pools = tuple(Pubkey.from_string(p) for p in manifest["pools"])
        mints = {
            Pubkey.from_string(m): MintNote(int(note["decimals"]), note.get("symbol"))
            for m, note in manifest.get("mints", {}).items()
        }
        reserves = {
            Pubkey.from_string(p): (int(r[0]), int(r[1]))
            for p, r in manifest.get("reserves", {}).items()
        }
        slot = manifest.get("slot")
        dump = Dump(
            accounts=accounts,
            pools=pools,
            mints=mints,
            reserves=reserves,
            cluster=manifest.get("cluster"),
            slot=None if slot is None else int(slot),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DumpError(f"{manifest_path}: malformed manifest: {exc!r}") from None
    missing = [p for p in dump.pools if p not in accounts]
    if missing:
        raise DumpError(f"{folder}: no account file of pool {missing[0]}")
    return dump


def write_dump(
    folder: Path,
    accounts: Sequence[DumpedAccount],
    *,
    pools: Sequence[Pubkey],
    mints: Mapping[Pubkey, MintNote] | None = None,
    cluster: str | None = None,
    slot: int | None = None,
    source: str,
) -> None:
    """Write a dump into folder (created; account files of the same address replaced)."""
    (folder / ACCOUNTS_DIR).mkdir(parents=True, exist_ok=True)
    for account in accounts:
        path = folder / ACCOUNTS_DIR / f"{account.address}.json"
        path.write_text(json.dumps(account.to_json(), indent=1) + "\n")
    manifest: dict[str, Any] = {
        "pools": [str(p) for p in pools],
        "cluster": cluster,
        "slot": slot,
    }
    if mints:
        manifest["mints"] = {
            str(m): {"decimals": n.decimals, "symbol": n.symbol} for m, n in mints.items()
        }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    (folder / "SOURCE.md").write_text(source)


@dataclass(frozen=True, slots=True)
class FetchedDump:
    """What :func:`fetch_dump` read: every account, all at one slot, and the pools' mints."""

    accounts: tuple[DumpedAccount, ...]
    slot: int
    mints: Mapping[Pubkey, MintNote]


MAX_ACCOUNTS_PER_CALL: Final = 100


async def fetch_dump(
    rpc: SolanaRpc,
    pools: Sequence[Pubkey],
    *,
    programs: ProgramIds,
    commitment: Commitment = "confirmed",
) -> FetchedDump:
    """Read the pools and every account a swap on them needs, all at one slot.

    The accounts are found as the engine's reader finds them
    (:func:`~eterna.adapters.solana.snapshots.needed_keys`: vaults, config, tick or bin
    arrays), plus the mints and what the swap instruction writes besides (CP-Swap's
    observation, DLMM's oracle). A last ``getMultipleAccounts`` reads them all together, so
    the dump is one slot's state. programs: the DEX programs' ids on the cluster read.

    :raises DumpError: when a pool is missing or not a pool of the three programs at the
        cluster's ids, or there are more accounts than one call reads.
    """
    read: dict[Pubkey, AccountInfo | None] = {}

    async def fetch(keys: Sequence[Pubkey]) -> None:
        todo = [k for k in dict.fromkeys(keys) if k not in read]
        for start in range(0, len(todo), MAX_ACCOUNTS_PER_CALL):
            batch = todo[start : start + MAX_ACCOUNTS_PER_CALL]
            answer = await rpc.get_multiple_accounts(batch, commitment=commitment)
            read.update(zip(batch, answer.value, strict=True))

    await fetch(pools)
    mints: dict[Pubkey, MintNote] = {}
    for pool in pools:
        account = read[pool]
        if account is None:
            raise DumpError(f"no account at {pool}")
        venue = programs.venue_of(account.owner)
        if venue is None:
            raise DumpError(f"{pool} is owned by {account.owner}, not a DEX program")
        pair = pool_mints(venue, account.data)
        await fetch(pair)
        tokens = []
        for mint in pair:
            found = read[mint]
            if found is None:
                raise DumpError(f"pool {pool}: no mint account at {mint}")
            note = MintNote(decode_mint(found.data).decimals)
            mints[mint] = note
            tokens.append(Token(str(mint), None, note.decimals))
        entry = PoolEntry(venue, account.owner, pool, *tokens)
        while missing := [k for k in needed_keys(entry, read) if k not in read]:
            await fetch(missing)
        await fetch(_swap_extras(venue, pool, account.data))
    keys = [k for k, v in read.items() if v is not None]
    if len(keys) > MAX_ACCOUNTS_PER_CALL:
        raise DumpError(f"{len(keys)} accounts do not fit one getMultipleAccounts call")
    answer = await rpc.get_multiple_accounts(keys, commitment=commitment)
    accounts = tuple(
        DumpedAccount(k, a.lamports, a.data, a.owner, a.executable, a.rent_epoch)
        for k, a in zip(keys, answer.value, strict=True)
        if a is not None
    )
    return FetchedDump(accounts, answer.slot, mints)


def _swap_extras(venue: str, pool: Pubkey, data: bytes) -> list[Pubkey]:
    """Return the accounts a swap writes that a quote does not read."""
    if venue == "raydium":
        return [cpswap.decode_pool_state(data).observation_key]
    if venue == "meteora":
        return [decode_lb_pair(data).oracle]
    return [whirlpool_oracle_address(pool)]

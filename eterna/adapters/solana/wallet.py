"""The deployment wallet: the one key that signs, pays the fees and holds the tokens.

Custody model: one wallet signs for every user of a deployment, as a trading desk's
execution engine does; users never hand Eterna a key, and per-user wallets are out of scope.
The key is read once at start-up from a keypair file as ``solana-keygen`` writes it (a JSON
array of 64 bytes), and refused when other users may read the file (any group or other
permission bit): a key others can read is a key others hold.

The secret never leaves this object by accident: :class:`Wallet`'s repr and str show the
public address only, it refuses to be pickled or copied into a message, and the errors of
:func:`load_wallet` name the file and what is wrong with it, never its content.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Final, NoReturn

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from eterna.domain.errors import EternaError

KEYPAIR_LEN: Final = 64
# Group and other permission bits: any of them lets another user read (or replace) the key.
_SHARED_BITS: Final = stat.S_IRWXG | stat.S_IRWXO


class WalletFileError(EternaError):
    """A keypair file that cannot be used: missing, unreadable, shared, or no keypair."""


class Wallet:
    """The deployment wallet's keypair, behind a repr that shows its address only."""

    __slots__ = ("_keypair", "_pubkey")

    def __init__(self, keypair: Keypair) -> None:
        self._keypair = keypair
        # Derived once: every transaction's build asks for it several times.
        self._pubkey = keypair.pubkey()

    @property
    def pubkey(self) -> Pubkey:
        """Return the wallet's address."""
        return self._pubkey

    @property
    def keypair(self) -> Keypair:
        """Return the keypair, for signing (keep it out of anything printed or stored)."""
        return self._keypair

    def __repr__(self) -> str:
        return f"Wallet({self.pubkey})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a wallet is not serialized: its secret stays in this process")


def load_wallet(path: Path) -> Wallet:
    """Read a keypair file as ``solana-keygen`` writes it, refusing one others can read.

    :raises WalletFileError: when the file is missing, readable by the group or others, or
        holds no keypair (the message never quotes the file).
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise WalletFileError(f"cannot read the keypair file {path}: {exc.strerror}") from None
    if mode & _SHARED_BITS:
        raise WalletFileError(
            f"the keypair file {path} is accessible to other users "
            f"(mode {stat.S_IMODE(mode):04o}); make it private: chmod 600 {path}"
        )
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WalletFileError(f"cannot read the keypair file {path}: {exc.strerror}") from None
    except ValueError:
        # The decoder's message may quote the file: say where, not what.
        raise WalletFileError(f"{path} is not JSON: a keypair file is a JSON array") from None
    if not (
        isinstance(values, list)
        and len(values) == KEYPAIR_LEN
        and all(isinstance(v, int) and 0 <= v <= 255 for v in values)
    ):
        raise WalletFileError(f"{path} is no keypair file: a JSON array of {KEYPAIR_LEN} bytes")
    try:
        keypair = Keypair.from_bytes(bytes(values))
    except ValueError:
        raise WalletFileError(
            f"{path} holds no valid keypair: its public half does not match its secret"
        ) from None
    return Wallet(keypair)

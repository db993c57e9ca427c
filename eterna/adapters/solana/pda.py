"""Program-derived addresses, each derived once per process.

Deriving one hashes its seeds with a bump from 255 down until the point is off the curve:
tens of microseconds, and a transaction's build derives a dozen (token accounts, tick
arrays, bin arrays, vaults) for the same few pools and wallet over and over. The answers
never change, so they are remembered, up to :data:`REMEMBERED` of them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from solders.pubkey import Pubkey

REMEMBERED: Final = 65_536


@lru_cache(maxsize=REMEMBERED)
def _derived(seeds: tuple[bytes, ...], program: Pubkey) -> tuple[Pubkey, int]:
    return Pubkey.find_program_address(list(seeds), program)


def program_address(seeds: tuple[bytes, ...] | list[bytes], program: Pubkey) -> tuple[Pubkey, int]:
    """Return the program-derived address of seeds under program, and its bump seed."""
    return _derived(tuple(seeds), program)

"""Where the DEX program binaries are, and proof that they are the builds we tested against.

The binaries are the mainnet builds (see ``shared/programs/README.md``); the project never
copies them into its tree. They are looked for, in order:

1. the folder named by ``ETERNA_PROGRAMS_DIR`` (passed in as ``programs_dir``), when set;
2. ``../shared/programs`` beside the repository (CI's layout), or beside the current folder;
3. ``<data folder>/programs``, where ``eterna programs fetch`` writes them.

The first folder that exists is used, and each binary in it must match its sha256: a chain
running another build would make every fidelity figure meaningless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from solders.pubkey import Pubkey

from eterna.errors import EternaError
from eterna.solana.ids import CPSWAP_PROGRAM, DLMM_PROGRAM, WHIRLPOOL_PROGRAM

PROGRAMS_DIR_ENV = "ETERNA_PROGRAMS_DIR"
_FIX = f"run `eterna programs fetch` or set {PROGRAMS_DIR_ENV} to a folder holding them"
_REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


class ProgramsError(EternaError):
    """The DEX program binaries cannot be used; the message names the fix."""


class ProgramsMissingError(ProgramsError):
    """A program binary is not where the chain looks for it."""


class ProgramHashMismatchError(ProgramsError):
    """A program binary is not the build Eterna is tested against."""


@dataclass(frozen=True, slots=True)
class ProgramSpec:
    """One DEX program: its mainnet id, the file of its build, and that file's sha256."""

    name: str
    program_id: Pubkey
    filename: str
    sha256: str


CPSWAP = ProgramSpec(
    "Raydium CP-Swap",
    CPSWAP_PROGRAM,
    "raydium_cp_swap.so",
    "4ec452fc44ad608c638a08355b8f964c92109a646f63ab481f98ee5e90c00e7b",
)
WHIRLPOOL = ProgramSpec(
    "Orca Whirlpool",
    WHIRLPOOL_PROGRAM,
    "orca_whirlpool.so",
    "31d9e2188713f7458b58d91a48db71ad48057559e29076698648710d19d27b22",
)
DLMM = ProgramSpec(
    "Meteora DLMM",
    DLMM_PROGRAM,
    "meteora_dlmm.so",
    "942f609d03440911f15c40e8df1733d808670768fd9042af1de956964fb2f0e6",
)
PROGRAMS: tuple[ProgramSpec, ...] = (CPSWAP, WHIRLPOOL, DLMM)


@dataclass(frozen=True, slots=True)
class ProgramFile:
    """A program binary found on disk and checked against its hash."""

    spec: ProgramSpec
    path: Path


def candidate_dirs(
    programs_dir: Path | None, data_dir: Path, cwd: Path | None = None
) -> list[Path]:
    """Return the folders to look in, in order (only programs_dir when it is given)."""
    if programs_dir is not None:
        return [programs_dir]
    here = Path.cwd() if cwd is None else cwd
    shared = [_REPOSITORY_ROOT.parent / "shared" / "programs", here.parent / "shared" / "programs"]
    return [*dict.fromkeys(shared), data_dir / "programs"]


def locate_programs(
    programs_dir: Path | None = None,
    *,
    data_dir: Path = Path(".eterna"),
    specs: Iterable[ProgramSpec] = PROGRAMS,
    cwd: Path | None = None,
) -> list[ProgramFile]:
    """Find every program's binary and check its hash.

    :raises ProgramsMissingError: when a binary is not in the first folder that exists.
    :raises ProgramHashMismatchError: when a binary is another build.
    """
    dirs = candidate_dirs(programs_dir, data_dir, cwd)
    folder = next((d for d in dirs if d.is_dir()), None)
    looked = ", ".join(str(d) for d in dirs)
    found = []
    for spec in specs:
        if folder is None or not (folder / spec.filename).is_file():
            where = folder or looked
            raise ProgramsMissingError(
                f"{spec.name} program ({spec.filename}) not found in {where}: {_FIX}"
            )
        found.append(ProgramFile(spec, verify_program(folder / spec.filename, spec)))
    return found


def verify_program(path: Path, spec: ProgramSpec) -> Path:
    """Return path when its sha256 is the spec's.

    :raises ProgramHashMismatchError: when it is not.
    """
    stat = path.stat()
    digest = _sha256(path.resolve(), stat.st_size, stat.st_mtime_ns)
    if digest != spec.sha256:
        raise ProgramHashMismatchError(
            f"{path} is not the tested {spec.name} build (sha256 {digest[:16]}..., "
            f"expected {spec.sha256[:16]}...): {_FIX}"
        )
    return path


@cache
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    # Keyed on size and mtime too: a chain per test re-checks a replaced file, not a kept one.
    del size, mtime_ns
    return hashlib.sha256(path.read_bytes()).hexdigest()

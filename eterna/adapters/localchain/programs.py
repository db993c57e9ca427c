"""Where the DEX program binaries are, and proof that they are the builds we tested against.

The binaries are the mainnet builds (see ``shared/programs/README.md``); the project never
copies them into its tree. They are looked for, in order:

1. the folder named by ``ETERNA_PROGRAMS_DIR`` (passed in as ``programs_dir``), when set;
2. ``../shared/programs`` beside the repository (CI's layout), or beside the current folder;
3. ``<data folder>/programs``, where ``eterna programs fetch`` writes them.

The first folder that exists is used, and each binary in it must match its sha256: a chain
running another build would make every fidelity figure meaningless.

The hash is of the ELF image - the bytes up to the end of its last header table or segment -
not of the file: a program's ProgramData account is allocated larger than its ELF (room to
upgrade), so a dump carries zero padding whose length says nothing about the build (the Orca
file in ``shared/programs`` has 199,560 such bytes; a fresh dump would have another count).

:func:`fetch_program` is the core of ``eterna programs fetch``: it reads a program's
ProgramData account over JSON-RPC (``getAccountInfo``), drops the loader's 45-byte header,
checks the ELF's hash and writes it to the data folder.

:func:`redeclared` turns a checked build into the same program declaring another id (an
Anchor program answers at its declared id only): the tests run CP-Swap at devnet's id with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
from solders.pubkey import Pubkey

from eterna.adapters.solana.ids import CPSWAP_PROGRAM, DLMM_PROGRAM, WHIRLPOOL_PROGRAM
from eterna.domain.errors import EternaError

PROGRAMS_DIR_ENV = "ETERNA_PROGRAMS_DIR"
UPGRADEABLE_LOADER = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
# UpgradeableLoaderState: tag u32, slot u64, Option<Pubkey> upgrade authority (1 + 32 bytes).
PROGRAMDATA_HEADER_LEN = 45
_PROGRAM_TAG = (2).to_bytes(4, "little")
_PROGRAMDATA_TAG = (3).to_bytes(4, "little")
# e_phoff, e_shoff, then e_phentsize, e_phnum, e_shentsize, e_shnum of an ELF64 header.
_ELF_HEADER = struct.Struct("<32xQQ6xHHHH2x")
# p_offset, p_filesz of an ELF64 program header (p_type and p_flags first).
_PROGRAM_HEADER = struct.Struct("<8xQ16xQ")
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
    "45f121398c883486fa9cb8045584981e5670aa8c572f3a0dccb725691581554b",
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
    """Return path when the sha256 of its ELF image is the spec's.

    :raises ProgramHashMismatchError: when it is not (or the file is no ELF).
    """
    stat = path.stat()
    digest = _image_sha256(path.resolve(), stat.st_size, stat.st_mtime_ns)
    check_digest(digest, spec, str(path))
    return path


def check_digest(digest: str, spec: ProgramSpec, source: str) -> None:
    """Raise ProgramHashMismatchError unless digest is the tested build's."""
    if digest != spec.sha256:
        raise ProgramHashMismatchError(
            f"{source} is not the tested {spec.name} build (sha256 {digest[:16]}..., "
            f"expected {spec.sha256[:16]}...): {_FIX}"
        )


def elf_image(data: bytes) -> bytes:
    """Return the ELF image at the start of data, without the zero padding after it.

    :raises ProgramHashMismatchError: when data is no 64-bit little-endian ELF.
    """
    if len(data) < _ELF_HEADER.size or data[:4] != b"\x7fELF" or data[4:6] != b"\x02\x01":
        raise ProgramHashMismatchError("not a 64-bit little-endian ELF program: " + _FIX)
    phoff, shoff, phentsize, phnum, shentsize, shnum = _ELF_HEADER.unpack_from(data)
    end = max(_ELF_HEADER.size, phoff + phentsize * phnum, shoff + shentsize * shnum)
    for i in range(phnum):
        offset, size = _PROGRAM_HEADER.unpack_from(data, phoff + i * phentsize)
        end = max(end, offset + size)
    if end > len(data):
        raise ProgramHashMismatchError(
            f"ELF program cut short ({len(data)} of {end} bytes): {_FIX}"
        )
    return data[:end]


@cache
def _image_sha256(path: Path, size: int, mtime_ns: int) -> str:
    # Keyed on size and mtime too: a chain per test re-checks a replaced file, not a kept one.
    del size, mtime_ns
    return hashlib.sha256(elf_image(path.read_bytes())).hexdigest()


class ProgramFetchError(ProgramsError):
    """The RPC did not give a program's binary (unreachable, an error, no such program)."""


def fetch_program(
    client: httpx.Client, rpc_url: str, spec: ProgramSpec, data_dir: Path
) -> ProgramFile:
    """Dump a program's binary from a cluster's RPC into ``<data_dir>/programs``.

    Reads the program account, then its ProgramData account; writes the ELF only when it
    is the tested build, so a folder never holds a binary :func:`locate_programs` refuses.

    :raises ProgramFetchError: when the RPC fails or the program is not upgradeable.
    :raises ProgramHashMismatchError: when the cluster runs another build.
    """
    owner, program = _account_info(client, rpc_url, spec.program_id)
    if owner != UPGRADEABLE_LOADER or program[:4] != _PROGRAM_TAG or len(program) < 36:
        raise ProgramFetchError(f"{spec.program_id} at {rpc_url} is no upgradeable program")
    programdata = Pubkey.from_bytes(program[4:36])
    owner, data = _account_info(client, rpc_url, programdata)
    if owner != UPGRADEABLE_LOADER or data[:4] != _PROGRAMDATA_TAG:
        raise ProgramFetchError(f"{programdata} at {rpc_url} is no ProgramData account")
    image = elf_image(data[PROGRAMDATA_HEADER_LEN:])
    check_digest(hashlib.sha256(image).hexdigest(), spec, f"the {spec.name} at {rpc_url}")
    folder = data_dir / "programs"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / spec.filename
    partial = target.with_suffix(".part")
    partial.write_bytes(image)
    partial.replace(target)  # atomic: a reader never sees half a binary
    return ProgramFile(spec, target)


def _account_info(client: httpx.Client, rpc_url: str, address: Pubkey) -> tuple[Pubkey, bytes]:
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "getAccountInfo",
        "params": [str(address), {"encoding": "base64"}],
    }
    try:
        response = client.post(rpc_url, json=request)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProgramFetchError(f"getAccountInfo {address} at {rpc_url} failed: {exc}") from exc
    if not isinstance(body, dict) or "error" in body:
        error = body.get("error") if isinstance(body, dict) else body
        raise ProgramFetchError(f"getAccountInfo {address} at {rpc_url}: {error}")
    try:
        value = body["result"]["value"]
        if value is None:
            raise ProgramFetchError(f"no account {address} at {rpc_url}")
        encoded, encoding = value["data"]
        if encoding != "base64":
            raise ProgramFetchError(f"{rpc_url} answered in {encoding}, not base64")
        return Pubkey.from_string(value["owner"]), base64.b64decode(encoded, validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ProgramFetchError(f"unexpected getAccountInfo answer from {rpc_url}: {exc}") from exc


# An SBF lddw: opcode 0x18 and the low half of a 64-bit immediate, then a slot of opcode 0
# holding its high half (16 bytes, two instruction slots).
_LDDW = 0x18
_SLOT = 8
# A section header's sh_flags, sh_offset, sh_size (after sh_name, sh_type; then the rest).
_SECTION_HEADER = struct.Struct("<8xQ8xQQ")
_SHF_EXECINSTR = 0x4


def redeclared(elf: bytes, declared: Pubkey, address: Pubkey) -> bytes:
    """Return an Anchor program's build as if compiled with ``declare_id!`` of another address.

    An Anchor program refuses every instruction sent to an address other than the id it
    declares (``DeclaredProgramIdMismatch``), and checks the accounts it owns against that id:
    a build runs at one address only. The compiled id is data, held twice over: the 32
    bytes of the ``ID`` constant, and 8-byte quarters loaded as ``lddw`` immediates wherever
    code compares with it. Both are rewritten; nothing else changes (the other constants a
    cluster's build may differ in, such as CP-Swap's admin and fee receiver, stay).

    :raises ProgramsError: when the build does not hold the declared id, or still does
        after the rewrite.
    """
    image = bytearray(elf)
    old, new = bytes(declared), bytes(address)
    found = 0
    for start, end in _code_ranges(elf):
        for at in range(start, end - 2 * _SLOT + 1, _SLOT):
            if image[at] != _LDDW or image[at + _SLOT] != 0:
                continue
            value = bytes(image[at + 4 : at + 8] + image[at + 12 : at + 16])
            for quarter in range(0, 32, 8):
                if value == old[quarter : quarter + 8]:
                    image[at + 4 : at + 8] = new[quarter : quarter + 4]
                    image[at + 12 : at + 16] = new[quarter + 4 : quarter + 8]
                    found += 1
    while (at := image.find(old)) != -1:
        image[at : at + 32] = new
        found += 1
    if not found:
        raise ProgramsError(f"the build does not declare {declared}")
    if _holds_id(bytes(image), old):
        raise ProgramsError(f"{declared} is still in the build after rewriting it")
    return bytes(image)


def _code_ranges(elf: bytes) -> list[tuple[int, int]]:
    """Return the file ranges of the ELF's executable sections."""
    _phoff, shoff, _phentsize, _phnum, shentsize, shnum = _ELF_HEADER.unpack_from(elf)
    ranges = []
    for i in range(shnum):
        flags, offset, size = _SECTION_HEADER.unpack_from(elf, shoff + i * shentsize)
        if flags & _SHF_EXECINSTR:
            ranges.append((offset, offset + size))
    return ranges


def _holds_id(elf: bytes, key: bytes) -> bool:
    if key in elf:
        return True
    for start, end in _code_ranges(elf):
        for at in range(start, end - 2 * _SLOT + 1, _SLOT):
            if elf[at] == _LDDW and elf[at + _SLOT] == 0:
                value = elf[at + 4 : at + 8] + elf[at + 12 : at + 16]
                if any(value == key[q : q + 8] for q in range(0, 32, 8)):
                    return True
    return False

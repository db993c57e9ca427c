"""Finding the program binaries and refusing missing or foreign builds with the fix named."""

from __future__ import annotations

from pathlib import Path

import pytest

from eterna.adapters.localchain.programs import (
    CPSWAP,
    PROGRAMS,
    ProgramFile,
    ProgramHashMismatchError,
    ProgramsMissingError,
    candidate_dirs,
    elf_image,
    locate_programs,
)


def _copy_programs(found: list[ProgramFile], folder: Path) -> None:
    folder.mkdir(parents=True)
    for program in found:
        (folder / program.spec.filename).symlink_to(program.path)


def test_the_binaries_beside_the_repository_are_the_tested_builds(
    program_files: list[ProgramFile],
) -> None:
    assert [p.spec for p in program_files] == list(PROGRAMS)
    assert all(p.path.is_file() for p in program_files)


def test_an_explicit_folder_is_the_only_place_looked_in(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    _copy_programs(program_files, tmp_path / "mine")
    found = locate_programs(tmp_path / "mine", data_dir=tmp_path / "data")
    assert [p.path.parent for p in found] == [tmp_path / "mine"] * 3
    with pytest.raises(ProgramsMissingError):
        locate_programs(tmp_path / "elsewhere", data_dir=tmp_path / "mine")


def test_a_missing_program_fails_with_one_line_naming_the_fix(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProgramsMissingError) as info:
        locate_programs(tmp_path / "empty")
    message = str(info.value)
    assert "\n" not in message
    assert "raydium_cp_swap.so" in message
    assert "eterna programs fetch" in message
    assert "ETERNA_PROGRAMS_DIR" in message


def test_a_foreign_build_fails_with_its_hash_and_the_fix(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    image = bytearray(program_files[0].path.read_bytes())
    image[len(image) // 2] ^= 0xFF
    (tmp_path / CPSWAP.filename).write_bytes(bytes(image))
    with pytest.raises(ProgramHashMismatchError, match="not the tested Raydium CP-Swap build"):
        locate_programs(tmp_path, specs=[CPSWAP])


def test_a_file_that_is_no_elf_is_refused(tmp_path: Path) -> None:
    (tmp_path / CPSWAP.filename).write_bytes(b"#!/bin/sh\necho not a program\n" * 4)
    with pytest.raises(ProgramHashMismatchError, match="not a 64-bit little-endian ELF"):
        locate_programs(tmp_path, specs=[CPSWAP])


def test_zero_padding_after_the_elf_does_not_change_the_build(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    image = program_files[0].path.read_bytes()
    (tmp_path / CPSWAP.filename).write_bytes(image + bytes(4_096))
    assert locate_programs(tmp_path, specs=[CPSWAP])[0].path == tmp_path / CPSWAP.filename
    assert elf_image(image + bytes(4_096)) == image
    with pytest.raises(ProgramHashMismatchError, match="cut short"):
        elf_image(image[:-100])


def test_a_replaced_binary_is_checked_again(
    program_files: list[ProgramFile], tmp_path: Path
) -> None:
    target = tmp_path / CPSWAP.filename
    target.write_bytes(program_files[0].path.read_bytes())
    assert locate_programs(tmp_path, specs=[CPSWAP])[0].path == target
    target.write_bytes(target.read_bytes()[:-1] + b"\x02")
    with pytest.raises(ProgramHashMismatchError):
        locate_programs(tmp_path, specs=[CPSWAP])


def test_without_a_folder_the_shared_folders_come_before_the_data_folder(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    dirs = candidate_dirs(None, tmp_path / "data", cwd=work)
    assert dirs[-1] == tmp_path / "data" / "programs"
    assert tmp_path / "shared" / "programs" in dirs
    assert dirs[0].parts[-2:] == ("shared", "programs")


def test_the_data_folder_is_used_when_no_shared_folder_exists(
    program_files: list[ProgramFile], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "eterna.adapters.localchain.programs._REPOSITORY_ROOT", tmp_path / "nowhere" / "x"
    )
    _copy_programs(program_files, tmp_path / "data" / "programs")
    found = locate_programs(data_dir=tmp_path / "data", cwd=tmp_path / "repo")
    assert {p.path.parent for p in found} == {tmp_path / "data" / "programs"}

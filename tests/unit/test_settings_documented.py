"""Every setting is documented: in `eterna settings`, a command's --help, docs/operations.md."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from eterna.entrypoints.cli import build_parser, main
from eterna.entrypoints.config import SECTIONS, Settings, env_name
from eterna.entrypoints.settings_help import COMMAND_SETTINGS

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
FIELDS = sorted(Settings.model_fields)


def _subcommands(
    parser: argparse.ArgumentParser | None = None, prefix: str = ""
) -> dict[str, argparse.ArgumentParser]:
    """Return every command, nested ones too (``order place``), by its full name."""
    parser = parser or build_parser()
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                found[prefix + name] = command
                found.update(_subcommands(command, f"{prefix}{name} "))
    return found


def _documented_settings() -> set[str]:
    text = OPERATIONS.read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_setting_belongs_to_exactly_one_section() -> None:
    listed = [f for fields in SECTIONS.values() for f in fields]
    assert sorted(listed) == FIELDS


@pytest.mark.parametrize("field", FIELDS)
def test_every_setting_has_a_meaning(field: str) -> None:
    description = Settings.model_fields[field].description
    assert description
    assert len(description) > 10


def test_eterna_settings_prints_every_setting_with_default_and_meaning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["settings"])
    out = capsys.readouterr().out
    for field in FIELDS:
        info = Settings.model_fields[field]
        entry = re.search(
            rf"^  {env_name(field)}  \(default ([^)]*)\)\n((?:      .*\n)+)", out, re.M
        )
        assert entry, field
        meaning = " ".join(line.strip() for line in entry.group(2).splitlines())
        assert meaning == info.description, field


@pytest.mark.parametrize("field", FIELDS)
def test_every_setting_is_in_the_help_of_a_command_and_in_the_configuration_table(
    field: str,
) -> None:
    helps = {name: p.format_help() for name, p in _subcommands().items()}
    name = env_name(field)
    assert any(
        re.search(rf"\b{name}\b", h.split("settings it reads")[-1]) for h in helps.values()
    ), f"{name} is in no command's --help"
    assert name in _documented_settings(), (
        f"{name} is missing from the configuration table of docs/operations.md"
    )


def test_each_command_names_the_settings_it_reads_in_its_help() -> None:
    for command, fields in COMMAND_SETTINGS.items():
        epilog = _subcommands()[command].format_help().split("settings it reads")[-1]
        for field in fields:
            assert re.search(rf"\b{env_name(field)}\b", epilog), (command, field)


def test_every_command_and_option_is_described() -> None:
    parser = build_parser()
    assert parser.description
    assert parser.epilog
    for name, command in _subcommands().items():
        assert command.description, name
        for action in command._actions:
            assert action.help, (name, action.dest)


def test_an_unknown_setting_value_is_refused_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ETERNA_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit, match="invalid settings"):
        main(["settings", "--values"])

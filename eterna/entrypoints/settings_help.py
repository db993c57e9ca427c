"""What `eterna --help` and `eterna settings` say about the settings.

Each command's --help ends with the settings it reads (:data:`COMMAND_SETTINGS`, built
from :data:`.config.SECTIONS`); `eterna settings` prints every one with its default
and meaning, the descriptions of :class:`eterna.entrypoints.config.Settings`.
"""

from __future__ import annotations

import textwrap

from pydantic import SecretStr

from eterna.entrypoints.config import SECTIONS, Settings, env_name

COMMAND_SETTINGS: dict[str, tuple[str, ...]] = {
    "serve": (
        *SECTIONS["server"],
        *SECTIONS["storage"],
        "log_level",
        "log_format",
        *SECTIONS["orders"],
        *SECTIONS["security"],
        # The embedded mode executes orders in the API process.
        *SECTIONS["execution"],
        *SECTIONS["trigger watcher"],
        # Unless ETERNA_SOLANA_RPC_URL is set, the process runs the local chain itself.
        *SECTIONS["market"],
        *SECTIONS["local chain"],
    ),
    "worker": (
        *SECTIONS["storage"],
        "jwt_secret",
        "host",
        "log_level",
        "log_format",
        "metrics_port",
        *SECTIONS["execution"],
        *SECTIONS["trigger watcher"],
        *SECTIONS["market"],
        *SECTIONS["local chain"],
    ),
    "chain": ("host", "log_level", "log_format", "data_dir", "wallet", *SECTIONS["local chain"]),
    "programs": ("data_dir",),
    "migrate": ("database_url", "data_dir", "db_pool_size", "log_level", "log_format"),
    "token": (
        "jwt_secret",
        "jwt_issuer",
        "jwt_audience",
        "token_ttl_hours",
        "data_dir",
        "redis_url",
    ),
}


def epilog(command: str) -> str:
    """Return the end of a command's --help: the settings it reads."""
    names = " ".join(env_name(f) for f in COMMAND_SETTINGS[command])
    lines = textwrap.wrap(names, width=76, initial_indent="  ", subsequent_indent="  ")
    return (
        "settings it reads (environment variables; `eterna settings` gives each one's "
        "default and meaning):\n" + "\n".join(lines)
    )


def shown(value: object) -> str:
    """Return a setting's value as one would write it in the environment."""
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(hidden)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(value) if value else "empty"
    return str(value)


def settings_text(current: Settings | None = None) -> str:
    """Return every setting, by section, with its default, meaning (and value in current)."""
    lines: list[str] = []
    for section, fields in SECTIONS.items():
        lines.append(f"{section}:")
        for name in fields:
            info = Settings.model_fields[name]
            line = f"  {env_name(name)}  (default {shown(info.default)})"
            if current is not None:
                line += f"  now: {shown(getattr(current, name))}"
            lines.append(line)
            # Unbroken hyphens: descriptions name headers such as X-Forwarded-For.
            text = textwrap.fill(info.description or "", 72, break_on_hyphens=False)
            lines.append(textwrap.indent(text, "      "))
        lines.append("")
    return "\n".join(lines) + "\n"

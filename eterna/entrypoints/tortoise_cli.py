"""The configuration the ``tortoise`` command line uses (``pyproject.toml`` names it).

``tortoise makemigrations`` and ``tortoise migrate`` read ``TORTOISE_ORM`` from here: the
database of DATABASE_URL, or the SQLite file in the data folder, as ``eterna migrate`` uses.
"""

from __future__ import annotations

from typing import Any

from eterna.entrypoints.config import Settings
from models.config import tortoise_config


def __getattr__(name: str) -> Any:  # read lazily: only the command line reads the environment
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings().effective_database_url)
    raise AttributeError(name)

"""docker-compose.yml: Postgres counts as up only when it serves TCP; migrate retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_postgres_is_healthy_only_once_it_answers_over_tcp() -> None:
    # The image's first start runs an init-only server on the Unix socket: a check over the
    # socket passes then, and migrate meets a server about to restart.
    test = _services()["postgres"]["healthcheck"]["test"]
    command = test[-1].split()
    assert command[0] == "pg_isready"
    assert command[command.index("-h") + 1] == "127.0.0.1"


def test_migrate_runs_again_until_it_succeeds_and_the_rest_waits_for_it() -> None:
    services = _services()
    assert services["migrate"]["restart"] == "on-failure"
    for name in ("api", "worker"):
        waits = services[name]["depends_on"]["migrate"]["condition"]
        assert waits == "service_completed_successfully", name

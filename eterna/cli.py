"""Composition root of the ``eterna`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from typing import Any

from eterna import __version__
from eterna.config import Settings

log = logging.getLogger("eterna")


def _configure_logging(settings: Settings) -> None:
    from eterna.logs import configure_logging  # noqa: PLC0415

    configure_logging(settings.log_level, settings.log_format)


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise SystemExit(f"invalid settings: {exc}") from None


def cmd_serve(args: argparse.Namespace) -> None:
    """Run the API (and, in the embedded mode, the queue, worker and sandbox)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from eterna.app import create_app  # noqa: PLC0415
    from eterna.bootstrap import jwt_auth  # noqa: PLC0415
    from eterna.engine import utcnow  # noqa: PLC0415

    settings = _settings()
    _configure_logging(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    mode = "distributed" if settings.distributed else "embedded"
    try:
        auth = jwt_auth(settings)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    base = f"http://{host}:{port}"
    print(f"Eterna {__version__} ({mode} mode) on {base}", flush=True)
    print(f"  GraphiQL:  {base}/graphql", flush=True)
    if not settings.distributed:
        token = auth.issue("dev", now=utcnow(), ttl=timedelta(hours=settings.token_ttl_hours))
        print(f"  dev token (user 'dev', {settings.token_ttl_hours} h):", flush=True)
        print(f"  Authorization: Bearer {token}", flush=True)
        if settings.order_page:
            # The fragment never reaches the server; the page keeps the token and drops it
            # from the address bar.
            print(f"  order page, signed in as 'dev': {base}/#token={token}", flush=True)
    elif settings.order_page:
        print(f"  order page: {base}/ (paste a token from `eterna token USER`)", flush=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        ws_ping_interval=20,
        ws_ping_timeout=20,
        timeout_graceful_shutdown=10,
        # Frames beyond the body limit are refused before they are read into memory, and
        # per-message compression costs ~47 MiB and CPU per 1,000 subscribers for little gain.
        ws_max_size=settings.max_body_bytes,
        ws_per_message_deflate=False,
    )


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived coroutine on uvloop when it is installed, as uvicorn runs the API.

    uvloop (part of uvicorn's standard extras) spends less CPU per callback, socket read
    and timer than asyncio's own loop; the code is the same on either.
    """
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        asyncio.run(main)
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)


def cmd_worker(_args: argparse.Namespace) -> None:
    """Run a worker that executes queued orders."""
    from tasks.worker import run_worker  # noqa: PLC0415

    settings = _settings()
    _configure_logging(settings)
    _run(run_worker(settings))


def cmd_sandbox(args: argparse.Namespace) -> None:
    """Run the market sandbox as an HTTP service (ETERNA_SANDBOX_URL points engines at it)."""
    import uvicorn  # noqa: PLC0415

    from eterna.sandbox_server import build_sandbox, create_sandbox_app  # noqa: PLC0415

    settings = _settings()
    _configure_logging(settings)
    host = args.host or settings.host
    port = args.port or settings.sandbox_port
    service = build_sandbox(settings)
    print(
        f"Eterna market sandbox (seed {settings.sandbox_seed}, slot {settings.sandbox_slot_ms} ms) "
        f"on http://{host}:{port}",
        flush=True,
    )
    uvicorn.run(
        create_sandbox_app(service), host=host, port=port, log_level=settings.log_level.lower()
    )


def cmd_migrate(_args: argparse.Namespace) -> None:
    """Apply the database migrations to DATABASE_URL (or the local SQLite file)."""
    from eterna.bootstrap import close_database, open_database  # noqa: PLC0415

    settings = _settings()
    _configure_logging(settings)

    async def run() -> None:
        await open_database(settings, run_migrations=True)
        await close_database()

    asyncio.run(run())
    print("migrations applied", flush=True)


def cmd_token(args: argparse.Namespace) -> None:
    """Print a JWT for a user."""
    from eterna.bootstrap import jwt_auth  # noqa: PLC0415
    from eterna.engine import utcnow  # noqa: PLC0415

    settings = _settings()
    try:
        auth = jwt_auth(settings)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    hours = args.hours or settings.token_ttl_hours
    print(auth.issue(args.user, now=utcnow(), ttl=timedelta(hours=hours)))


def cmd_schema(_args: argparse.Namespace) -> None:
    """Print the GraphQL schema (SDL)."""
    from schema import schema  # noqa: PLC0415

    sys.stdout.write(schema.as_str() + "\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``eterna`` command."""
    parser = argparse.ArgumentParser(
        prog="eterna",
        description=(
            "Order execution engine for Solana DEX trading. With nothing configured, "
            "`eterna serve` runs everything in one process on SQLite; with DATABASE_URL and "
            "REDIS_URL, run any number of `eterna serve` and `eterna worker` processes."
        ),
    )
    parser.add_argument("--version", action="version", version=f"eterna {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the GraphQL API (GraphiQL at /graphql)")
    serve.add_argument("--host", help="interface to bind (default ETERNA_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PORT or 8000)")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="execute queued orders (distributed mode)")
    worker.set_defaults(func=cmd_worker)
    sandbox = sub.add_parser(
        "sandbox", help="run the market sandbox as an HTTP service (pools, quotes, ledger, faults)"
    )
    sandbox.add_argument("--host", help="interface to bind (default ETERNA_HOST or 127.0.0.1)")
    sandbox.add_argument("--port", type=int, help="port (default ETERNA_SANDBOX_PORT or 8900)")
    sandbox.set_defaults(func=cmd_sandbox)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)
    token = sub.add_parser("token", help="print a JWT for USER")
    token.add_argument("user", metavar="USER", help="user id (the token's sub)")
    token.add_argument("--hours", type=int, help="lifetime (default ETERNA_TOKEN_TTL_HOURS)")
    token.set_defaults(func=cmd_token)
    schema_cmd = sub.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema_cmd.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``eterna`` command."""
    args = build_parser().parse_args(argv)
    args.func(args)

"""Composition root of the ``eterna`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from eterna import __version__
from eterna.entrypoints.config import Settings
from eterna.entrypoints.settings_help import COMMAND_SETTINGS, epilog, settings_text
from eterna.entrypoints.trade import add_trading_commands

log = logging.getLogger("eterna")


def _configure_logging(settings: Settings) -> None:
    from eterna.core.logs import configure_logging  # noqa: PLC0415

    configure_logging(settings.log_level, settings.log_format)


def _start_tracing(service: str) -> None:
    """Trace this process when the OTEL_* variables ask for it (docs/operations.md)."""
    from eterna.adapters.tracing import (  # noqa: PLC0415
        TracingUnavailableError,
        start_tracing,
        tracing_wanted,
    )

    if not tracing_wanted(os.environ):
        return
    try:
        start_tracing(service)
    except TracingUnavailableError as exc:
        raise SystemExit(str(exc)) from None
    exporter = os.environ.get("OTEL_TRACES_EXPORTER") or "otlp"
    log.info("tracing on: spans go to the %s exporter the OTEL_* variables configure", exporter)


def _on_system_allocator(settings: Settings) -> None:
    """Run this command again on the C library's allocator, unless told otherwise.

    The allocator is chosen when the interpreter starts, hence the new image (same process,
    same arguments). Why: :mod:`eterna.adapters.web.memory`.
    """
    if not settings.system_allocator or "PYTHONMALLOC" in os.environ:
        return
    try:
        os.execve(  # noqa: S606 - this same program, by its own path and arguments
            sys.executable,
            [sys.executable, *sys.orig_argv[1:]],
            {**os.environ, "PYTHONMALLOC": "malloc"},
        )
    except OSError as exc:
        log.warning("staying on Python's allocator: %s", exc)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise SystemExit(f"invalid settings: {exc}") from None


def _programs_or_exit(settings: Settings, command: str) -> None:
    """Exit with one line naming the fix when this process must run the chain and cannot."""
    if settings.solana_rpc_url:
        return  # a shared chain runs the programs
    from eterna.adapters.localchain.programs import ProgramsError, locate_programs  # noqa: PLC0415

    try:
        locate_programs(settings.programs_dir, data_dir=settings.data_dir)
    except ProgramsError as exc:
        raise SystemExit(f"eterna {command}: {exc}") from None


def _wallet_or_exit(settings: Settings, command: str) -> None:
    """Exit with one line when ETERNA_WALLET names a file that cannot be used (or is shared)."""
    if settings.wallet is None:
        return
    from eterna.adapters.solana.wallet import WalletFileError, load_wallet  # noqa: PLC0415

    try:
        load_wallet(settings.wallet)
    except WalletFileError as exc:
        raise SystemExit(f"eterna {command}: {exc}") from None


def cmd_serve(args: argparse.Namespace) -> None:
    """Run the API (and, in the embedded mode, the queue, worker and local chain)."""
    settings = _settings()
    _on_system_allocator(settings)  # before the imports: they would be done twice

    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from eterna.core.clock import utcnow  # noqa: PLC0415
    from eterna.entrypoints.app import create_app  # noqa: PLC0415
    from eterna.entrypoints.bootstrap import jwt_auth  # noqa: PLC0415
    from eterna.entrypoints.failures import check_port  # noqa: PLC0415

    _configure_logging(settings)
    _programs_or_exit(settings, "serve")
    _wallet_or_exit(settings, "serve")
    _start_tracing("eterna-api")
    host = args.host or settings.host
    port = args.port or settings.port
    mode = "distributed" if settings.distributed else "embedded"
    # Before the banner, the token and the app (its watcher, its database): nothing starts
    # on a port another server holds.
    busy = check_port(host, port)
    if busy:
        raise SystemExit(f"eterna serve: {busy}")
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
        log_config=None,  # uvicorn's records go through our handler (eterna.core.logs)
        ws_ping_interval=20,
        ws_ping_timeout=20,
        timeout_graceful_shutdown=10,
        # Frames beyond the body limit are refused before they are read into memory, and
        # per-message compression costs ~47 MiB and CPU per 1,000 subscribers for little gain.
        ws_max_size=settings.max_body_bytes,
        ws_per_message_deflate=False,
        # The client's address comes from ETERNA_TRUSTED_PROXIES (adapters/web/client_address);
        # uvicorn's own handling would believe X-Forwarded-For from any local peer.
        proxy_headers=False,
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


def cmd_worker(args: argparse.Namespace) -> None:
    """Run a worker that executes queued orders."""
    from eterna.entrypoints.worker import run_worker  # noqa: PLC0415

    settings = _settings(metrics_port=args.metrics_port)
    _configure_logging(settings)
    _programs_or_exit(settings, "worker")
    _wallet_or_exit(settings, "worker")
    _start_tracing("eterna-worker")
    _run(run_worker(settings))


def cmd_chain(args: argparse.Namespace) -> None:
    """Run the local chain as a Solana JSON-RPC server (websocket subscriptions on the port)."""
    import uvicorn  # noqa: PLC0415

    from eterna.adapters.localchain.rpc_server import create_chain_app  # noqa: PLC0415
    from eterna.domain.errors import EternaError  # noqa: PLC0415
    from eterna.entrypoints.chain import build_local_node  # noqa: PLC0415

    settings = _settings(
        chain_seed=args.seed, chain_slot_ms=args.slot_ms, programs_dir=args.programs_dir
    )
    _configure_logging(settings)
    _start_tracing("eterna-chain")
    host = args.host or settings.host
    port = args.port or settings.chain_port
    try:
        node = build_local_node(settings)
    except EternaError as exc:  # missing programs, an unreadable wallet file
        raise SystemExit(f"eterna chain: {exc}") from None
    slots = f"{settings.chain_slot_ms} ms slots" if settings.chain_slot_ms else "manual slots"
    print(
        f"Eterna local chain (seed {settings.chain_seed}, {slots}, wallet {node.wallet.pubkey()}): "
        f"JSON-RPC on http://{host}:{port}, subscriptions on ws://{host}:{port}",
        flush=True,
    )
    uvicorn.run(
        create_chain_app(node),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
    )


# Where `eterna programs fetch` reads the programs unless told otherwise: mainnet's public RPC.
MAINNET_RPC_URL = "https://api.mainnet-beta.solana.com"


def cmd_programs(args: argparse.Namespace) -> None:
    """Dump the three DEX programs from a Solana RPC into the data folder; print their hashes."""
    import hashlib  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    from eterna.adapters.localchain.programs import (  # noqa: PLC0415
        PROGRAMS,
        ProgramsError,
        fetch_program,
    )

    settings = _settings()
    rpc_url = args.rpc or MAINNET_RPC_URL
    with httpx.Client(timeout=httpx.Timeout(60.0)) as client:
        for spec in PROGRAMS:
            try:
                fetched = fetch_program(client, rpc_url, spec, settings.data_dir)
            except ProgramsError as exc:
                raise SystemExit(f"eterna programs fetch: {exc}") from None
            digest = hashlib.sha256(fetched.path.read_bytes()).hexdigest()
            print(f"{digest}  {fetched.path}  ({spec.name}, {spec.program_id})", flush=True)


def cmd_snapshots(args: argparse.Namespace) -> None:
    """Dump pools' accounts from a Solana RPC into a folder the local chain loads."""
    import datetime  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    import httpx  # noqa: PLC0415
    from solders.pubkey import Pubkey  # noqa: PLC0415

    from eterna.adapters.solana.account_dumps import (  # noqa: PLC0415
        DumpError,
        fetch_dump,
        write_dump,
    )
    from eterna.adapters.solana.clusters import (  # noqa: PLC0415
        UnsupportedClusterError,
        cluster_of,
        programs_on,
    )
    from eterna.adapters.solana.http_rpc import HttpRpc  # noqa: PLC0415
    from eterna.domain.errors import VenueError  # noqa: PLC0415

    rpc_url = args.rpc or MAINNET_RPC_URL
    try:
        pools = [Pubkey.from_string(p) for p in args.pools]
    except ValueError as exc:
        raise SystemExit(f"eterna snapshots fetch: not a pool address: {exc}") from None

    async def run() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
            rpc = HttpRpc(client, rpc_url)
            # The pools are those of the node's cluster, at its program ids.
            programs = programs_on(cluster_of(await rpc.get_genesis_hash()))
            fetched = await fetch_dump(rpc, pools, programs=programs)
        # An RPC URL may carry a key in its query or user part: only its host is written.
        host = urlsplit(rpc_url).hostname or "?"
        when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        source = (
            f"# Pools {', '.join(map(str, pools))}\n\n"
            f"Read with getMultipleAccounts from the {args.cluster} RPC at {host}, "
            f"slot {fetched.slot}, {when}, by `eterna snapshots fetch`; every account at "
            "that one slot.\n"
        )
        write_dump(
            Path(args.out),
            fetched.accounts,
            pools=pools,
            mints=fetched.mints,
            cluster=args.cluster,
            slot=fetched.slot,
            source=source,
        )
        print(f"{len(fetched.accounts)} accounts at slot {fetched.slot} in {args.out}", flush=True)

    try:
        asyncio.run(run())
    except (DumpError, VenueError, UnsupportedClusterError) as exc:
        raise SystemExit(f"eterna snapshots fetch: {exc}") from None


def cmd_migrate(_args: argparse.Namespace) -> None:
    """Apply the database migrations to DATABASE_URL (or the local SQLite file)."""
    from eterna.entrypoints.bootstrap import close_database, open_database  # noqa: PLC0415

    settings = _settings()
    _configure_logging(settings)

    async def run() -> None:
        await open_database(settings, run_migrations=True)
        await close_database()

    asyncio.run(run())
    print("migrations applied", flush=True)


def cmd_token(args: argparse.Namespace) -> None:
    """Print a JWT for a user."""
    from eterna.core.clock import utcnow  # noqa: PLC0415
    from eterna.entrypoints.bootstrap import jwt_auth, local_secret_path  # noqa: PLC0415

    settings = _settings()
    try:
        auth = jwt_auth(settings, create_secret=False)
    except ValueError as exc:
        raise SystemExit(f"eterna token: {exc}") from None
    hours = args.hours or settings.token_ttl_hours
    print(auth.issue(args.user, now=utcnow(), ttl=timedelta(hours=hours), admin=args.admin))
    # On stderr, so `$(eterna token USER)` captures the token alone.
    source = "JWT_SECRET" if settings.jwt_secret is not None else local_secret_path(settings)
    print(f"signed with the secret in {source}", file=sys.stderr)


def cmd_schema(_args: argparse.Namespace) -> None:
    """Print the GraphQL schema (SDL)."""
    from schema import schema  # noqa: PLC0415

    sys.stdout.write(schema.as_str() + "\n")


def _command(
    sub: Any, name: str, summary: str, description: str, func: Callable[[argparse.Namespace], None]
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, 78),
        epilog=epilog(name) if name in COMMAND_SETTINGS else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of a failure (also with ETERNA_LOG_LEVEL=DEBUG)",
    )
    return parser


def cmd_settings(args: argparse.Namespace) -> None:
    """Print every setting, by section, with its default and meaning."""
    sys.stdout.write(settings_text(_settings() if args.values else None))


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``eterna`` command."""
    parser = argparse.ArgumentParser(
        prog="eterna",
        description=(
            "Order execution engine for Solana DEX trading. With nothing configured, "
            "`eterna serve` runs everything in one process on SQLite; with DATABASE_URL and "
            "REDIS_URL, run any number of `eterna serve` and `eterna worker` processes."
        ),
        epilog=(
            "`eterna COMMAND --help` describes a command, its options and the settings it "
            "reads; `eterna settings` lists every setting with its default and meaning."
        ),
    )
    parser.add_argument("--version", action="version", version=f"eterna {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure, not one line"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = _command(
        sub,
        "serve",
        "run the GraphQL API (GraphiQL at /graphql)",
        "Run the GraphQL API: /graphql (queries, mutations, subscriptions over websockets, "
        "GraphiQL in a browser), /health and /metrics (Prometheus). In the embedded mode "
        "(no REDIS_URL) the same process queues and executes orders, on SQLite unless "
        "DATABASE_URL is set, and prints a dev token. Orders trade on the chain at "
        "ETERNA_SOLANA_RPC_URL (a shared `eterna chain`), or unset, on the local chain "
        "run in this process.",
        cmd_serve,
    )
    serve.add_argument("--host", help="interface to bind (default ETERNA_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PORT or 8000)")
    worker = _command(
        sub,
        "worker",
        "execute queued orders (distributed mode)",
        "Execute queued orders from the Redis Stream until SIGTERM or SIGINT (then finish "
        "running orders for ETERNA_SHUTDOWN_GRACE_SECONDS and hand the rest back). Needs "
        "DATABASE_URL, REDIS_URL and JWT_SECRET. Serves Prometheus metrics at /metrics on "
        "the first free port from ETERNA_METRICS_PORT (9464, 9465, ... for several workers "
        "on one host).",
        cmd_worker,
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="first port to try for /metrics (default ETERNA_METRICS_PORT or 9464; 0: none)",
    )
    chain = _command(
        sub,
        "chain",
        "run the local chain as a Solana JSON-RPC server",
        "Run the local chain: LiteSVM with the Raydium CP-Swap, Orca Whirlpool and Meteora "
        "DLMM programs' mainnet builds, a genesis of real tokens and pools, slots, a market "
        "maker, launches and faults, served as Solana JSON-RPC on one port (POST /, "
        "websocket subscriptions on /) with admin endpoints under /admin (faults, launch, "
        "move-price, ledger, pools, advance) and /health.",
        cmd_chain,
    )
    chain.add_argument("--host", help="interface to bind (default ETERNA_HOST or 127.0.0.1)")
    chain.add_argument("--port", type=int, help="port (default ETERNA_CHAIN_PORT or 8899)")
    chain.add_argument("--seed", type=int, help="genesis seed (default ETERNA_CHAIN_SEED or 7)")
    chain.add_argument(
        "--slot-ms",
        type=int,
        metavar="MS",
        help="slot length (default ETERNA_CHAIN_SLOT_MS or 400; 0: slots move on request)",
    )
    chain.add_argument(
        "--programs-dir",
        metavar="DIR",
        help="folder of the programs' binaries (default ETERNA_PROGRAMS_DIR)",
    )
    programs = _command(
        sub,
        "programs",
        "fetch the DEX programs the local chain runs",
        "`eterna programs fetch` dumps the mainnet builds of Raydium CP-Swap, Orca Whirlpool "
        "and Meteora DLMM from a Solana RPC (each program's ProgramData account, without the "
        "loader's header) into the data folder's programs/, where the local chain finds them, "
        "and prints their sha256; a build other than the tested one is refused and not "
        "written.",
        cmd_programs,
    )
    programs.add_argument("action", choices=["fetch"], help="what to do: fetch")
    programs.add_argument(
        "--rpc",
        metavar="URL",
        help=f"the Solana JSON-RPC to read them from (default {MAINNET_RPC_URL})",
    )
    snapshots = _command(
        sub,
        "snapshots",
        "dump pools' accounts for the local chain",
        "`eterna snapshots fetch POOL...` reads the pools and every account a swap on them "
        "needs (mints, vaults, config, tick or bin arrays, oracle) with getMultipleAccounts, "
        "all at one slot, from a Solana RPC, and writes them as a dump folder (accounts/, "
        "snapshot.json, SOURCE.md) that the local chain's tests load into the chain.",
        cmd_snapshots,
    )
    snapshots.add_argument("action", choices=["fetch"], help="what to do: fetch")
    snapshots.add_argument("pools", nargs="+", metavar="POOL", help="pool account addresses")
    snapshots.add_argument("--out", required=True, metavar="DIR", help="the dump folder")
    snapshots.add_argument(
        "--rpc",
        metavar="URL",
        help=f"the Solana JSON-RPC to read them from (default {MAINNET_RPC_URL})",
    )
    snapshots.add_argument(
        "--cluster",
        default="mainnet-beta",
        help="the cluster's name, written in the manifest (default mainnet-beta)",
    )
    _command(
        sub,
        "migrate",
        "apply database migrations",
        "Apply the database migrations (native Tortoise migrations) to DATABASE_URL, or to "
        "the SQLite file in ETERNA_DATA_DIR. A release step of the distributed mode; the "
        "embedded mode migrates by itself at start.",
        cmd_migrate,
    )
    token = _command(
        sub,
        "token",
        "print a JWT for USER",
        "Print a JWT (HS256, sub = USER) signed with JWT_SECRET, or with the secret the "
        "embedded mode generated in its data folder (ETERNA_DATA_DIR, ./.eterna by default: "
        "run it where `eterna serve` runs); without either it refuses rather than invent "
        "a secret no server holds. Says on stderr which secret signed. Send the token as "
        "`Authorization: Bearer <token>`.",
        cmd_token,
    )
    token.add_argument("user", metavar="USER", help="user id (the token's sub)")
    token.add_argument("--hours", type=int, help="lifetime (default ETERNA_TOKEN_TTL_HOURS)")
    token.add_argument(
        "--admin",
        action="store_true",
        help='with the admin role ("role": "admin"): pause and resume trading, cancel any '
        "user's orders, read any order and the audit trail",
    )
    _command(
        sub,
        "schema",
        "print the GraphQL schema (SDL)",
        "Print the GraphQL schema in SDL, the contract clients generate code from.",
        cmd_schema,
    )
    settings_cmd = _command(
        sub,
        "settings",
        "list every setting with its default and meaning",
        "List every setting (environment variable), grouped by subject, with its default "
        "and meaning. With --values, also the value in force now (secrets hidden).",
        cmd_settings,
    )
    settings_cmd.add_argument(
        "--values",
        action="store_true",
        help="also show the value each setting has in this environment",
    )
    add_trading_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``eterna`` command; a failure is one line with its fix unless --debug."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except Exception as exc:
        debug = getattr(args, "debug", False) or os.environ.get("ETERNA_LOG_LEVEL", "") == "DEBUG"
        if debug:
            raise
        from eterna.entrypoints.failures import explain  # noqa: PLC0415

        settings = _settings_or_none()
        raise SystemExit(
            f"eterna {args.command}: {explain(exc, settings)} (--debug shows the traceback)"
        ) from None


def _settings_or_none() -> Settings | None:
    try:
        return Settings()
    except ValueError:
        return None

"""The cost of one JSON-RPC round trip to the local chain: in process, and over HTTP.

Usage: ``python bench/rpc_roundtrip.py [--calls N] [--sends N] [--seed S]``. Needs no
services, only the program binaries (``ETERNA_PROGRAMS_DIR``, or ``../shared/programs``).
Three clients of the same node kind (manual slots, no drift), each on a node of its own:

- ``LocalRpc``: the embedded mode's client, through the server's dispatcher in process;
- ``HttpRpc`` over an ASGI transport: the same server app, HTTP framing without a socket;
- ``HttpRpc`` over loopback TCP to ``eterna chain`` in a process of its own (the distributed
  mode); its swaps are built on a twin node in this process (same seed, slots and wallet).

For each: ``getMultipleAccounts`` of 4 accounts of the SOL/USDC Whirlpool (its state, vaults
and a tick array, as a quote reads them), N calls; ``sendTransaction`` of N distinct signed
swaps, with the preflight simulation (the default) and with ``skipPreflight``. Prints p50/p99
and calls/s; the node's own work (LiteSVM executing the swap) is in every send figure, so the
difference between the rows is the RPC layer's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from solders.compute_budget import set_compute_unit_limit
from solders.message import Message
from solders.transaction import Transaction

from eterna.adapters.localchain.local_rpc import LocalRpc
from eterna.adapters.localchain.node import LocalNode, NodeConfig
from eterna.adapters.localchain.pools import ChainPool, swap_instruction
from eterna.adapters.localchain.programs import (
    PROGRAMS_DIR_ENV,
    ProgramFile,
    ProgramsError,
    locate_programs,
)
from eterna.adapters.localchain.rpc_server import create_chain_app
from eterna.adapters.solana.http_rpc import HttpRpc
from eterna.adapters.solana.rpc_client import RpcClient
from eterna.adapters.solana.spl import memo
from eterna.domain.tokens import SOL, USDC, USDT, Token

SWAP_UNITS = 400_000


def _pool(node: LocalNode, venue: str, a: Token, b: Token) -> ChainPool:
    pair = {a.mint, b.mint}
    return next(
        p for p in node.pools() if p.venue == venue and {p.token_a.mint, p.token_b.mint} == pair
    )


def _swaps(node: LocalNode, count: int, tag: str) -> list[Transaction]:
    owner = node.wallet.pubkey()
    recent = node.latest_blockhash().blockhash
    pool = _pool(node, "raydium", USDC, USDT)
    txs = []
    for n in range(count):
        a_to_b = n % 2 == 0
        ix = swap_instruction(node.chain, pool, owner, a_to_b=a_to_b, amount_in=10**4 + n)
        instructions = [set_compute_unit_limit(SWAP_UNITS), ix, memo(f"{tag}-{n}", (owner,))]
        message = Message.new_with_blockhash(instructions, owner, recent)
        txs.append(Transaction([node.wallet], message, recent))
    return txs


async def _timed(calls: Sequence[Callable[[], Awaitable[object]]]) -> tuple[float, float, float]:
    """Return p50 and p99 in ms, and calls/s, of awaiting each call in turn."""
    latencies = []
    start = time.perf_counter()
    for call in calls:
        began = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - began)
    total = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return statistics.median(latencies) * 1000, p99 * 1000, len(calls) / total


async def _check_landed(rpc: RpcClient, txs: list[Transaction], what: str) -> None:
    for first in range(0, len(txs), 256):
        batch = [tx.signatures[0] for tx in txs[first : first + 256]]
        statuses = (await rpc.get_signature_statuses(batch)).value
        failed = [s for s in statuses if s is None or s.err is not None]
        if failed:
            raise SystemExit(f"{what}: {len(failed)} swaps did not land")


async def _measure(name: str, rpc: RpcClient, node: LocalNode, calls: int, sends: int) -> None:
    # A node accepts the blockhashes it handed out: ask it for the one the swaps carry.
    latest = await rpc.get_latest_blockhash()
    if latest.value.blockhash != node.latest_blockhash().blockhash:
        raise SystemExit(f"{name}: the node is not at the builder's slot")
    accounts = list(_pool(node, "orca", SOL, USDC).accounts[:4])
    reads = [lambda: rpc.get_multiple_accounts(accounts) for _ in range(calls)]
    await _timed(reads[: max(1, calls // 10)])  # warm the caches and the connection
    rows = [("getMultipleAccounts (4)", await _timed(reads))]
    for label, skip in (("sendTransaction", False), ("sendTransaction skipPreflight", True)):
        txs = _swaps(node, sends, f"{name}-{label}")
        row = [lambda tx=tx, s=skip: rpc.send_transaction(tx, skip_preflight=s) for tx in txs]
        rows.append((label, await _timed(row)))
        await _check_landed(rpc, txs, f"{name} {label}")
    for label, (p50, p99, rate) in rows:
        print(f"{name:<22} {label:<32} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  {rate:8,.0f}/s")


@contextmanager
def _chain_process(seed: int, programs_dir: Path) -> Iterator[str]:
    """Run `eterna chain` (manual slots, no drift) on a free port; yield its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "ETERNA_PROGRAMS_DIR": str(programs_dir),
        "ETERNA_CHAIN_DRIFT": "false",
        "ETERNA_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "eterna", "chain", "--port", str(port), "--slot-ms", "0"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        with httpx.Client() as client:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if client.get(url + "health").text == "ok":
                        break
                time.sleep(0.1)
            else:
                raise SystemExit("eterna chain did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _run(programs: list[ProgramFile], args: argparse.Namespace) -> None:
    config = NodeConfig(seed=args.seed, slot_ms=0, drift=False)
    local = LocalNode(programs, config)
    await _measure("LocalRpc", LocalRpc(local), local, args.calls, args.sends)
    asgi = LocalNode(programs, config)
    app = create_chain_app(asgi, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        await _measure(
            "HttpRpc (ASGI)", HttpRpc(client, "http://chain/"), asgi, args.calls, args.sends
        )
    # The process's node is this twin's (same seed, slots and wallet): swaps built on the
    # twin are valid there.
    twin = LocalNode(programs, config)
    with _chain_process(args.seed, programs[0].path.parent) as url:
        async with httpx.AsyncClient() as client:
            await _measure(
                "HttpRpc (eterna chain)", HttpRpc(client, url), twin, args.calls, args.sends
            )


def main() -> int:
    """Measure and print the round trips."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2_000, help="getMultipleAccounts calls")
    parser.add_argument("--sends", type=int, default=500, help="swaps sent, per mode")
    parser.add_argument("--seed", type=int, default=7, help="genesis seed")
    args = parser.parse_args()
    configured = os.environ.get(PROGRAMS_DIR_ENV)
    try:
        programs = locate_programs(Path(configured) if configured else None)
    except ProgramsError as exc:
        print(exc, file=sys.stderr)
        return 2
    asyncio.run(_run(programs, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

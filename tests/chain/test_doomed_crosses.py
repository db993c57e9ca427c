"""No doomed transactions: a cross that ends before the transaction would land sends nothing.

A limit order sits just above the market. The price crosses it (someone buys SOL on every
SOL/USDC pool), the engine's pre-trade check sees the limit met and routes; then, between the
route and the transaction, the cross ends (someone sells the SOL back), as a cross shorter
than the trigger latency does. The engine runs on the real gateway over the local chain, so
the transaction it builds is the real one, its minimum out the limit floor.

With simulation before sending, each of 100 such crosses ends with the order WAITING again
and no transaction of it in the chain's ledger. Without it, the same cross lands a failed
transaction that paid its fee for nothing - what the simulation is for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.gateway import SolanaGateway
from eterna.adapters.solana.landing import LandingConfig
from eterna.adapters.solana.pools import VENUES
from eterna.application.engine import EngineConfig, ExecutionEngine
from eterna.core.clock import utcnow
from eterna.domain.failures import FailureKind
from eterna.domain.orders import Order, OrderEvent, OrderStatus, OrderType, PlaceOrder
from eterna.domain.tokens import SOL, USDC, price_of
from eterna.routing.router import Router
from eterna.routing.venues import SwapRequest, Transaction, TxStatus
from models.memory import MemoryOrderStore
from tests.chain.eterna_support import eterna_on
from tests.chain.node_support import manual_node

pytestmark = pytest.mark.anyio

CROSSES = 100
CROSS_BPS = 30
LIMIT_ABOVE_BPS = 10


class CrossEnds:
    """The real gateway, but the cross ends after the route and before the transaction."""

    def __init__(self, gateway: SolanaGateway, end_cross: Callable[[], None]) -> None:
        self._gateway = gateway
        self._end_cross = end_cross

    async def build(self, request: SwapRequest) -> Transaction:
        self._end_cross()
        return await self._gateway.build(request)

    async def send(self, tx: Transaction) -> None:
        await self._gateway.send(tx)

    async def status(self, tx: Transaction) -> TxStatus:
        return await self._gateway.status(tx)


class Published:
    async def publish(self, events: Sequence[OrderEvent]) -> None:
        return None


def sol_usdc_pools(node: LocalNode) -> list[Pubkey]:
    return [p.address for p in node.pools() if {p.token_a, p.token_b} == {SOL, USDC}]


def push(node: LocalNode, pools: list[Pubkey], sold: str, bps: int) -> None:
    """Land someone's swap selling the token into every pool, moving each by about bps."""
    for address in pools:
        a_to_b = node.pool(address).direction(Pubkey.from_string(sold))
        assert a_to_b is not None
        node.move_price(address, bps, a_to_b=a_to_b)


async def run_crosses(
    node: LocalNode, *, simulate: bool, crosses: int
) -> list[tuple[Order, list[OrderEvent]]]:
    """Cross a fresh limit order `crosses` times, the cross ending before each build."""
    eterna = eterna_on(node)
    gateway = SolanaGateway(
        eterna.rpc,
        eterna.registry,
        eterna.reader,
        node.wallet,
        landing=LandingConfig(simulate=simulate),
    )
    pools = sol_usdc_pools(node)
    router = Router([eterna.venue(name) for name in VENUES], max_legs=2)
    store = MemoryOrderStore()

    async def no_wait(_: float) -> None:
        return None

    engine = ExecutionEngine(
        store,
        router,
        CrossEnds(gateway, lambda: push(node, pools, SOL.mint, CROSS_BPS)),
        Published(),
        EngineConfig(max_attempts=3, confirm_poll_ms=1),
        sleep=no_wait,
    )
    finished: list[tuple[Order, list[OrderEvent]]] = []
    for _ in range(crosses):
        quoted = await router.route(SOL, USDC, Decimal(1), slippage_bps=50)
        now_price = price_of(Decimal(1), quoted.route.amount_out)
        limit = (now_price * (10_000 + LIMIT_ABOVE_BPS) / 10_000).quantize(Decimal("0.000001"))
        command = PlaceOrder(
            user_id="alice",
            type=OrderType.LIMIT,
            token_in=SOL,
            token_out=USDC,
            amount_in=Decimal(1),
            limit_price=limit,
        )
        (placed,) = await store.place([command], utcnow())
        push(node, pools, USDC.mint, CROSS_BPS)  # the cross: SOL pays above the limit
        done = await engine.execute(placed.order.id, "alice")
        assert done is not None
        finished.append((done, await store.events(done.id)))
        node.advance(1)
    return finished


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    return manual_node(program_files)


async def test_a_hundred_short_crosses_land_no_failed_transaction(node: LocalNode) -> None:
    orders = await run_crosses(node, simulate=True, crosses=CROSSES)
    for order, events in orders:
        # It fired (the route met the limit), then its simulation missed the floor.
        assert [e.status for e in events] == [
            OrderStatus.PENDING,
            OrderStatus.ROUTING,
            OrderStatus.WAITING,
        ]
        assert events[-1].failure is FailureKind.SLIPPAGE
        assert order.status is OrderStatus.WAITING
        assert node.transactions(str(order.id)) == []  # nothing sent, no fee paid


async def test_without_simulation_the_same_cross_lands_a_failed_transaction(
    node: LocalNode,
) -> None:
    orders = await run_crosses(node, simulate=False, crosses=3)
    for order, events in orders:
        assert OrderStatus.SUBMITTED in [e.status for e in events]
        landed = node.transactions(str(order.id))
        assert landed, "the doomed transaction was sent"
        assert not any(entry.ok for entry in landed)

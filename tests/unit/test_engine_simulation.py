"""The engine on a gateway that simulates before sending: no doomed transaction is sent.

Each build answers the next scripted simulation (a :class:`Landing`). A failing simulation
sends nothing: a limit order goes back to WAITING, a market order re-quotes, a non-price
failure fails the order at once. A dry-run build ends the order with the simulated fill.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from eterna.domain.failures import FailureKind
from eterna.domain.orders import OrderStatus, OrderType
from eterna.routing.venues import Landing, SwapRequest, Transaction
from tests.unit.test_engine import MARKET_PATH, Gateway, World, landed

pytestmark = pytest.mark.anyio


def passing(amount_out: int = 150_000_000) -> Landing:
    return Landing(
        priority_fee=1_500,
        compute_unit_limit=48_000,
        simulated=True,
        units_consumed=40_000,
        amount_out=amount_out,
    )


def failing(kind: FailureKind, error: str) -> Landing:
    return Landing(
        priority_fee=1_500,
        compute_unit_limit=1_400_000,
        simulated=True,
        units_consumed=35_000,
        failure=kind,
        error=error,
    )


@dataclass
class SimulatingGateway(Gateway):
    """The scripted chain, each build simulated as scripted; dry run when told."""

    simulations: list[Landing] = field(default_factory=list)
    dry_run: bool = False

    async def build(self, request: SwapRequest) -> Transaction:
        tx = await super().build(request)
        landing = self.simulations.pop(0) if self.simulations else passing()
        tx = dataclasses.replace(tx, landing=landing, dry_run=self.dry_run)
        self.built[-1] = tx
        return tx


@pytest.fixture
def world() -> World:
    return World(gateway=SimulatingGateway())


def gateway_of(world: World) -> SimulatingGateway:
    assert isinstance(world.gateway, SimulatingGateway)
    return world.gateway


async def test_the_building_event_carries_the_fee_the_limit_and_the_simulation(
    world: World,
) -> None:
    world.gateway.script = [landed()]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert not done.simulated
    building = (await world.store.events(order.id))[2]
    assert building.status is OrderStatus.BUILDING
    assert building.details["landing"] == {
        "priorityFeeMicroLamports": 1_500,
        "computeUnitLimit": 48_000,
        "simulated": True,
        "simulatedUnits": 40_000,
        "simulatedAmountOut": "150000000",
    }
    assert "simulated: 40000 units, pays 150.000000 USDC" in building.message


async def test_a_market_order_whose_simulation_slips_requotes_without_sending(
    world: World,
) -> None:
    gateway = gateway_of(world)
    gateway.simulations = [failing(FailureKind.SLIPPAGE, "SlippageToleranceExceeded: Custom 6036")]
    gateway.script = [landed()]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    statuses = await world.statuses(order)
    assert statuses == [
        OrderStatus.PENDING,
        OrderStatus.ROUTING,
        *MARKET_PATH[0:1],
        *MARKET_PATH[1:],
    ]
    retried = (await world.store.events(order.id))[2]
    assert retried.failure is FailureKind.SLIPPAGE
    assert "nothing sent" in retried.message
    # Two builds, one sent: the doomed transaction never left.
    assert len(gateway.built) == 2
    assert gateway.sent == [gateway.built[1].signature]


async def test_a_limit_order_whose_simulation_misses_its_floor_waits_again_unsent(
    world: World,
) -> None:
    gateway = gateway_of(world)
    gateway.simulations = [failing(FailureKind.SLIPPAGE, "SlippageToleranceExceeded")]
    order = await world.place(OrderType.LIMIT, limit_price=Decimal(100))
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert (done.status, done.attempts) == (OrderStatus.WAITING, 0)
    assert await world.statuses(order) == [
        OrderStatus.PENDING,
        OrderStatus.ROUTING,
        OrderStatus.WAITING,
    ]
    rested = (await world.store.events(order.id))[-1]
    assert rested.failure is FailureKind.SLIPPAGE
    assert rested.details["landing"]["simulationFailure"] == "SLIPPAGE"
    assert gateway.sent == []


async def test_a_simulation_failing_for_another_reason_fails_the_order_unsent(
    world: World,
) -> None:
    gateway = gateway_of(world)
    gateway.simulations = [
        failing(FailureKind.SIMULATION_FAILED, "SimulationFailed: Custom 1 in instruction 4")
    ]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.FAILED
    assert done.failure_reason is not None
    assert "nothing sent" in done.failure_reason
    failed = (await world.store.events(order.id))[-1]
    assert failed.failure is FailureKind.SIMULATION_FAILED
    assert gateway.sent == []
    assert len(gateway.built) == 1


async def test_a_dry_run_ends_with_the_simulated_fill_and_sends_nothing(world: World) -> None:
    gateway = gateway_of(world)
    gateway.dry_run = True
    gateway.simulations = [passing(amount_out=149_250_000)]
    order = await world.place()
    done = await world.engine().execute(order.id, "alice")
    assert done is not None
    assert done.status is OrderStatus.CONFIRMED
    assert done.simulated
    assert done.amount_out == Decimal("149.25")
    assert done.executed_price == Decimal("149.25")
    assert done.tx_signature is None
    assert await world.statuses(order) == [
        OrderStatus.PENDING,
        OrderStatus.ROUTING,
        OrderStatus.BUILDING,
        OrderStatus.CONFIRMED,
    ]
    last = (await world.store.events(order.id))[-1]
    assert last.details["simulated"] is True
    assert last.amount_out == Decimal("149.25")
    assert "nothing was sent" in last.message
    assert gateway.sent == []
    stored = await world.store.get(order.id)
    assert stored is not None
    assert stored.simulated

"""The joint allocation on the local chain: within the legs a transaction holds (four, with
the node's lookup tables), the refined route lands and fills its quote to the base unit,
and never pays less than the candidates alone; a richer route does not fit one transaction
without lookup tables.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.transactions import TransactionTooLargeError
from eterna.domain.routes import RouteKind
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, Token
from eterna.entrypoints.market import CHAIN_MAX_LEGS
from eterna.routing.router import Router
from eterna.routing.venues import TxState
from tests.chain.eterna_support import Eterna, eterna_on, expected_out, request_for
from tests.chain.node_support import manual_node

pytestmark = pytest.mark.anyio

VENUES = ("raydium", "orca", "meteora")


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift."""
    return manual_node(program_files)


@pytest.fixture
def eterna(node: LocalNode) -> Eterna:
    """Eterna's adapters over the node, using its lookup tables."""
    return eterna_on(node, lookup_tables=True)


@pytest.mark.parametrize(
    ("token_in", "token_out", "amount"),
    [
        (SOL, USDC, Decimal(1_000)),
        (USDC, SOL, Decimal(2_000_000)),
        (BONK, SOL, Decimal(20_000_000_000)),
        (RAY, BONK, Decimal(400_000)),
        (SOL, JUP, Decimal(20_000)),
    ],
)
async def test_refined_routes_within_the_leg_bound_land_and_fill_their_quote(
    eterna: Eterna, token_in: Token, token_out: Token, amount: Decimal
) -> None:
    venues = [eterna.venue(v) for v in VENUES]
    router = Router(venues, max_legs=CHAIN_MAX_LEGS)
    candidates_only = Router(venues, max_legs=CHAIN_MAX_LEGS, refinements=-1)
    decision = await router.route(token_in, token_out, amount, slippage_bps=50)
    before = await candidates_only.route(token_in, token_out, amount, slippage_bps=50)
    route = decision.route
    assert len(route.legs) <= CHAIN_MAX_LEGS
    assert route.amount_out >= before.route.amount_out
    assert decision.venue_calls <= router.venue_call_bound(2)
    assert route.all_in_cost_bps is not None
    assert route.all_in_cost_bps >= route.price_impact_bps

    tx = await eterna.gateway.build(request_for(route))
    await eterna.gateway.send(tx)
    status = await eterna.gateway.status(tx)

    assert status.state is TxState.CONFIRMED
    assert status.amount_out == expected_out(route)


async def test_a_route_of_more_legs_than_the_bound_does_not_fit_without_lookup_tables(
    node: LocalNode,
) -> None:
    # Without the bound the joint allocation mixes both hubs' paths: four swaps or more.
    plain = eterna_on(node)
    router = Router([plain.venue(v) for v in VENUES])
    route = (await router.route(RAY, BONK, Decimal(400_000), slippage_bps=50)).route
    assert route.kind is RouteKind.MULTI
    assert len(route.legs) > CHAIN_MAX_LEGS

    with pytest.raises(TransactionTooLargeError, match="without lookup tables"):
        await plain.gateway.build(request_for(route))

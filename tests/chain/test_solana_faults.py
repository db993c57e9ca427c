"""The node's faults as the Solana adapters meet them: each ends in the state the engine expects.

An RPC error is a transient VenueUnavailableError; a stale blockhash gives a transaction that
is EXPIRED at once; a dropped one is UNKNOWN until its block height passes, then EXPIRED; an
adverse swap landing first makes ours fail on its minimum, as SLIPPAGE.
"""

from __future__ import annotations

import pytest

from eterna.adapters.localchain.faults import FaultSettings
from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.domain.errors import TransientError, VenueUnavailableError
from eterna.domain.failures import FailureKind
from eterna.domain.tokens import SOL, USDC
from eterna.routing.venues import Transaction, TxState
from tests.chain.eterna_support import Eterna, eterna_on, request_for, single
from tests.chain.node_support import manual_node

pytestmark = pytest.mark.anyio

ONE_SOL = 10**9


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift or faults (yet)."""
    return manual_node(program_files)


@pytest.fixture
def eterna(node: LocalNode) -> Eterna:
    """Eterna's adapters over the node."""
    return eterna_on(node)


async def built(eterna: Eterna, venue: str = "raydium") -> Transaction:
    """Return a signed SOL -> USDC transaction on the venue, built from a fresh quote."""
    return await eterna.gateway.build(
        request_for(single(await eterna.quote(venue, SOL, USDC, ONE_SOL)))
    )


async def test_rpc_errors_are_transient_and_change_nothing(eterna: Eterna) -> None:
    route = single(await eterna.quote("orca", SOL, USDC, ONE_SOL))
    tx = await built(eterna)
    eterna.node.faults.settings = FaultSettings(error_rate=1.0)

    for call in (
        eterna.venue("orca").quote_amounts(SOL, USDC, [ONE_SOL]),
        eterna.gateway.build(request_for(route)),
        eterna.gateway.send(tx),
        eterna.gateway.status(tx),
    ):
        with pytest.raises(VenueUnavailableError) as caught:
            await call
        assert isinstance(caught.value, TransientError)
    assert eterna.node.transactions(memo="order-1") == []


async def test_stale_blockhash_gives_a_transaction_expired_at_once(eterna: Eterna) -> None:
    eterna.node.faults.settings = FaultSettings(expire_rate=1.0)
    tx = await built(eterna)

    assert (await eterna.gateway.status(tx)).state is TxState.EXPIRED
    await eterna.gateway.send(tx)
    assert (await eterna.gateway.status(tx)).state is TxState.EXPIRED
    assert eterna.node.transactions(memo="order-1") == []


async def test_dropped_transaction_is_unknown_until_its_height_passes(eterna: Eterna) -> None:
    tx = await built(eterna, "meteora")
    assert tx.last_valid_block_height is not None
    eterna.node.faults.settings = FaultSettings(drop_rate=1.0)

    await eterna.gateway.send(tx)
    assert (await eterna.gateway.status(tx)).state is TxState.UNKNOWN
    eterna.node.advance(tx.last_valid_block_height - eterna.node.block_height + 1)

    assert (await eterna.gateway.status(tx)).state is TxState.EXPIRED
    assert eterna.node.transactions(memo="order-1") == []


@pytest.mark.parametrize("venue", ["raydium", "orca", "meteora"])
async def test_adverse_swap_landing_first_fails_ours_as_slippage(
    eterna: Eterna, venue: str
) -> None:
    tx = await built(eterna, venue)
    eterna.node.faults.settings = FaultSettings(price_move_rate=1.0, price_move_bps=200)

    await eterna.gateway.send(tx)
    status = await eterna.gateway.status(tx)

    assert status.state is TxState.FAILED
    assert status.failure is FailureKind.SLIPPAGE
    assert eterna.node.faults.injected["priceMoves"] == 1

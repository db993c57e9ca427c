"""The Solana gateway against the local node through LocalRpc: what it builds is what lands.

Each route is quoted by the venue adapters from the pools' accounts, turned into the request
the engine makes, built and signed by the gateway, sent, and read back: the fill must be the
quote to the base unit, for every venue, SOL in and SOL out, a split and a two-hop.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from solders.pubkey import Pubkey

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.ids import WSOL_MINT
from eterna.adapters.solana.legs import RouteMovedError
from eterna.adapters.solana.spl import associated_token_address
from eterna.adapters.solana.transactions import TransactionTooLargeError
from eterna.domain.failures import FailureKind
from eterna.domain.tokens import BONK, JUP, RAY, SOL, USDC, Token
from eterna.routing.router import Router
from eterna.routing.venues import Transaction, TxState
from tests.chain.eterna_support import (
    Eterna,
    eterna_on,
    expected_out,
    request_for,
    single,
    split,
    two_hop,
)
from tests.chain.node_support import manual_node

pytestmark = pytest.mark.anyio

VENUES = ("raydium", "orca", "meteora")
ONE_SOL = 10**9
HUNDRED_USDC = 100 * 10**6


@pytest.fixture
def node(program_files: list[ProgramFile]) -> LocalNode:
    """A node at genesis whose slots move by hand, without drift."""
    return manual_node(program_files)


@pytest.fixture
def eterna(node: LocalNode) -> Eterna:
    """Eterna's adapters over the node."""
    return eterna_on(node)


def wallet_balance(node: LocalNode, token: Token) -> int:
    """Return what the wallet holds of a token (SOL: its lamports)."""
    owner = node.wallet.pubkey()
    mint = Pubkey.from_string(token.mint)
    if mint == WSOL_MINT:
        return node.chain.lamports(owner)
    return node.chain.token_balance(associated_token_address(owner, mint))


def sell(node: LocalNode, pool: str, token: Token, bps: int) -> None:
    """Land someone else's swap selling token into the pool, moving its price by about bps."""
    address = Pubkey.from_string(pool)
    a_to_b = node.pool(address).direction(Pubkey.from_string(token.mint))
    assert a_to_b is not None
    node.move_price(address, bps, a_to_b=a_to_b)


async def land(eterna: Eterna, tx: Transaction) -> TxState:
    """Send the transaction and return its state as the gateway reads it."""
    await eterna.gateway.send(tx)
    return (await eterna.gateway.status(tx)).state


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize(
    ("token_in", "token_out", "amount"),
    [(SOL, USDC, 3 * ONE_SOL), (USDC, SOL, 5 * HUNDRED_USDC)],
    ids=["sol-in", "sol-out"],
)
async def test_single_pool_fill_equals_its_quote(
    eterna: Eterna, venue: str, token_in: Token, token_out: Token, amount: int
) -> None:
    route = single(await eterna.quote(venue, token_in, token_out, amount))
    tx = await eterna.gateway.build(request_for(route, memo=f"order-{venue}"))
    assert tx.wrap_sol is (token_in == SOL)
    assert tx.unwrap_sol is (token_out == SOL)
    before = wallet_balance(eterna.node, token_in)

    await eterna.gateway.send(tx)
    status = await eterna.gateway.status(tx)

    assert status.state is TxState.CONFIRMED
    assert status.amount_out == expected_out(route)
    assert status.fee is not None
    assert status.fee >= 5_000
    assert status.compute_units is not None
    assert 20_000 < status.compute_units < 200_000
    spent = before - wallet_balance(eterna.node, token_in)
    fee_paid = status.fee if token_in == SOL else 0
    assert spent == amount + fee_paid
    (entry,) = eterna.node.transactions(memo=f"order-{venue}")
    assert str(entry.signature) == tx.signature
    if token_out == SOL:  # unwrapped: the wrapped-SOL account is closed again
        assert (
            eterna.node.account(associated_token_address(eterna.node.wallet.pubkey(), WSOL_MINT))
            is None
        )


@pytest.mark.parametrize(
    ("token_in", "token_out", "venues", "amount"),
    [
        (SOL, USDC, ("raydium", "meteora"), ONE_SOL),
        (USDC, SOL, ("orca", "meteora"), HUNDRED_USDC),
    ],
    ids=["sol-in", "sol-out"],
)
async def test_split_over_two_venues_fills_the_sum_of_its_quotes(
    eterna: Eterna, token_in: Token, token_out: Token, venues: tuple[str, str], amount: int
) -> None:
    quotes = [await eterna.quote(v, token_in, token_out, amount) for v in venues]
    route = split(quotes)
    assert len(route.legs) == 2

    tx = await eterna.gateway.build(request_for(route))

    assert await land(eterna, tx) is TxState.CONFIRMED
    status = await eterna.gateway.status(tx)
    assert status.amount_out == expected_out(route) == sum(q.amount_out for q in quotes)


async def test_two_hop_through_sol_fills_its_quote(eterna: Eterna) -> None:
    first = await eterna.quote("raydium", BONK, SOL, 10**11)
    second = await eterna.quote("orca", SOL, JUP, first.amount_out)
    route = two_hop(first, second)
    request = request_for(route)
    assert request.swaps[1].amount_in is None  # spends what the first hop pays

    tx = await eterna.gateway.build(request)

    assert await land(eterna, tx) is TxState.CONFIRMED
    assert (await eterna.gateway.status(tx)).amount_out == second.amount_out


@pytest.mark.parametrize("venue", VENUES)
async def test_stale_quote_fails_on_its_minimum_and_says_slippage(
    eterna: Eterna, venue: str
) -> None:
    quote = await eterna.quote(venue, SOL, USDC, ONE_SOL)
    tx = await eterna.gateway.build(request_for(single(quote)))
    # Someone sells SOL into the pool first: ours now pays less than its minimum.
    sell(eterna.node, quote.pool, SOL, 200)
    usdc_before = wallet_balance(eterna.node, USDC)

    await eterna.gateway.send(tx)
    status = await eterna.gateway.status(tx)

    assert status.state is TxState.FAILED
    assert status.failure is FailureKind.SLIPPAGE
    assert status.error is not None
    assert status.error.startswith("SlippageToleranceExceeded")
    assert venue in status.error
    assert status.fee is not None
    assert status.fee > 0
    assert wallet_balance(eterna.node, USDC) == usdc_before


@pytest.mark.parametrize("venue", ["orca", "meteora"])
async def test_swap_run_past_the_pool_liquidity_fails_as_insufficient_liquidity(
    eterna: Eterna, venue: str
) -> None:
    # Nine tenths of all the pool can pay, then the price moves the same way first: the
    # swap runs past its last tick or bin array.
    quote = await eterna.quote(venue, SOL, USDC, await most_fillable(eterna, venue) * 9 // 10)
    tx = await eterna.gateway.build(request_for(single(quote)))
    sell(eterna.node, quote.pool, SOL, 300)

    await eterna.gateway.send(tx)
    status = await eterna.gateway.status(tx)

    assert status.state is TxState.FAILED
    assert status.failure is FailureKind.INSUFFICIENT_LIQUIDITY
    assert status.error is not None
    assert status.error.startswith("InsufficientLiquidity")


async def most_fillable(eterna: Eterna, venue: str) -> int:
    """Return the largest SOL amount the venue's SOL/USDC pool fills now (a bisection)."""
    low, high = 1, 10**18
    while low < high:
        middle = (low + high + 1) // 2
        quotes = await eterna.venue(venue).quote_amounts(SOL, USDC, [middle])
        low, high = (middle, high) if quotes else (low, middle - 1)
    return low


async def test_two_hop_whose_first_pool_moved_fails_as_slippage(eterna: Eterna) -> None:
    first = await eterna.quote("meteora", BONK, SOL, 10**11)
    second = await eterna.quote("raydium", SOL, JUP, first.amount_out)
    tx = await eterna.gateway.build(request_for(two_hop(first, second)))
    sell(eterna.node, first.pool, BONK, 100)

    assert await land(eterna, tx) is TxState.FAILED
    assert (await eterna.gateway.status(tx)).failure is FailureKind.SLIPPAGE


async def test_unsent_transaction_is_unknown_until_its_block_height_passes(
    eterna: Eterna,
) -> None:
    tx = await eterna.gateway.build(
        request_for(single(await eterna.quote("raydium", SOL, USDC, ONE_SOL)))
    )
    assert tx.last_valid_block_height is not None
    node = eterna.node

    node.advance(tx.last_valid_block_height - node.block_height)
    assert (await eterna.gateway.status(tx)).state is TxState.UNKNOWN
    node.advance(1)
    assert (await eterna.gateway.status(tx)).state is TxState.EXPIRED
    await eterna.gateway.send(tx)  # without preflight a node drops it silently, as a cluster
    assert (await eterna.gateway.status(tx)).state is TxState.EXPIRED
    assert node.transactions(memo="order-1") == []


async def test_transaction_lands_at_its_last_valid_block_height(eterna: Eterna) -> None:
    tx = await eterna.gateway.build(
        request_for(single(await eterna.quote("orca", SOL, USDC, ONE_SOL)))
    )
    assert tx.last_valid_block_height is not None
    eterna.node.advance(tx.last_valid_block_height - eterna.node.block_height)

    assert await land(eterna, tx) is TxState.CONFIRMED


async def test_resending_the_same_transaction_lands_it_once(eterna: Eterna) -> None:
    route = single(await eterna.quote("meteora", USDC, SOL, HUNDRED_USDC))
    tx = await eterna.gateway.build(request_for(route))
    usdc_before = wallet_balance(eterna.node, USDC)

    for _ in range(3):
        await eterna.gateway.send(tx)
    eterna.node.advance(2)
    await eterna.gateway.send(tx)

    assert (await eterna.gateway.status(tx)).state is TxState.CONFIRMED
    assert len(eterna.node.transactions(memo="order-1")) == 1
    assert usdc_before - wallet_balance(eterna.node, USDC) == HUNDRED_USDC


async def test_stored_transaction_resumes_from_its_json(eterna: Eterna) -> None:
    tx = await eterna.gateway.build(
        request_for(single(await eterna.quote("raydium", USDC, SOL, HUNDRED_USDC)))
    )
    stored = Transaction.from_json(tx.to_json())

    assert stored == tx
    assert await land(eterna, stored) is TxState.CONFIRMED
    assert (await eterna.gateway.status(tx)).state is TxState.CONFIRMED


async def test_amount_no_pool_can_fill_is_refused_at_build(eterna: Eterna) -> None:
    route = single(await eterna.quote("meteora", SOL, USDC, ONE_SOL))
    request = request_for(route)
    whole_pool = 10**9 * ONE_SOL
    swap = request.swaps[0]
    too_big = type(request)(
        request.memo,
        request.payer,
        request.mint_in,
        request.mint_out,
        (type(swap)(swap.venue, swap.pool, swap.mint_in, swap.mint_out, whole_pool),),
        request.min_amount_out,
    )

    with pytest.raises(RouteMovedError, match="cannot fill"):
        await eterna.gateway.build(too_big)


@pytest.mark.parametrize(
    ("token_in", "token_out", "amount"),
    [
        (SOL, USDC, Decimal(5_000)),
        (BONK, JUP, Decimal(1_000_000_000)),
        (RAY, JUP, Decimal(1_000)),
        (JUP, SOL, Decimal(100_000)),
    ],
)
async def test_routes_of_at_most_two_legs_fit_and_fill_their_quote(
    eterna: Eterna, token_in: Token, token_out: Token, amount: Decimal
) -> None:
    router = Router([eterna.venue(v) for v in VENUES], max_legs=2)
    route = (await router.route(token_in, token_out, amount, slippage_bps=50)).route
    assert len(route.legs) <= 2

    tx = await eterna.gateway.build(request_for(route))

    assert await land(eterna, tx) is TxState.CONFIRMED
    assert (await eterna.gateway.status(tx)).amount_out == expected_out(route)


async def test_split_over_three_venues_does_not_fit_one_transaction(eterna: Eterna) -> None:
    quotes = [await eterna.quote(v, SOL, USDC, ONE_SOL) for v in VENUES]

    with pytest.raises(TransactionTooLargeError, match="lookup tables"):
        await eterna.gateway.build(request_for(split(quotes)))


def test_gateway_repr_names_the_wallet_and_not_its_secret(eterna: Eterna) -> None:
    text = repr(eterna.gateway)

    assert str(eterna.node.wallet.pubkey()) in text
    assert str(eterna.node.wallet) not in text
    assert bytes(eterna.node.wallet).hex() not in text

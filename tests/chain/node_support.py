"""What the local node's tests share: a node with manual slots, and a signed swap to send."""

from __future__ import annotations

from solders.compute_budget import set_compute_unit_limit
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import Transaction

from eterna.adapters.localchain.faults import FaultSettings
from eterna.adapters.localchain.node import LocalNode, NodeConfig
from eterna.adapters.localchain.pools import ChainPool, swap_instruction
from eterna.adapters.localchain.programs import ProgramFile
from eterna.adapters.solana.spl import create_associated_token_account_idempotent, memo
from eterna.domain.tokens import Token

SWAP_UNITS = 1_400_000


def manual_node(
    programs: list[ProgramFile],
    *,
    drift: bool = False,
    faults: FaultSettings | None = None,
    launch_every_seconds: float = 0.0,
) -> LocalNode:
    """Return a node whose slots move only by hand, without drift unless asked."""
    config = NodeConfig(
        slot_ms=0,
        drift=drift,
        faults=faults or FaultSettings(),
        launch_every_seconds=launch_every_seconds,
    )
    return LocalNode(programs, config)


def pool_of(node: LocalNode, venue: str, a: Token, b: Token) -> ChainPool:
    """Return the node's pool of a pair on a venue (either order)."""
    wanted = {a.mint, b.mint}
    for pool in node.pools():
        if pool.venue == venue and {pool.token_a.mint, pool.token_b.mint} == wanted:
            return pool
    raise LookupError(f"no {venue} pool of {a.label}/{b.label}")


def swap_tx(
    node: LocalNode,
    pool: ChainPool,
    *,
    a_to_b: bool,
    amount: int,
    min_out: int = 0,
    memo_text: str = "order-1",
    blockhash: Hash | None = None,
    signer: Keypair | None = None,
) -> Transaction:
    """Return the wallet's signed exact-in swap through pool, with a memo."""
    wallet = signer or node.wallet
    owner = wallet.pubkey()
    recent = blockhash or node.latest_blockhash().blockhash
    ix = swap_instruction(
        node.chain, pool, owner, a_to_b=a_to_b, amount_in=amount, min_amount_out=min_out
    )
    mint_out = pool.mint_b if a_to_b else pool.mint_a
    program_out = node.chain.token_program_of(mint_out)
    open_out = create_associated_token_account_idempotent(owner, owner, mint_out, program_out)
    instructions = [set_compute_unit_limit(SWAP_UNITS), open_out, ix, memo(memo_text, (owner,))]
    message = Message.new_with_blockhash(instructions, owner, recent)
    return Transaction([wallet], message, recent)

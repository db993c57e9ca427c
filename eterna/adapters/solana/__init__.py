"""What Eterna needs on any Solana cluster: ids, SPL token, Anchor layouts, DEX instructions.

Depends on solders, the standard library, :mod:`eterna.amm` and :mod:`eterna.domain.tokens` only;
never on a local chain, so the same code serves a real cluster's RPC.
"""

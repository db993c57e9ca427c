"""The market sandbox: a seeded simulation of Solana DEX pools, slots and a ledger."""

"""Eterna: an order execution engine for Solana DEX trading."""

__version__ = "0.1.0"

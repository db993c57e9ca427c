"""Venue adapters: how the engine reaches DEX pools and the chain.

The router and the engine see only the protocols in :mod:`eterna.venues.base`; which venues
exist is decided by the composition root.
"""

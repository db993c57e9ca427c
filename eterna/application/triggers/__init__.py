"""Limit, sniper and stop orders.

The pre-trade check, the trigger checks on fresh routes, and the watcher that fires resting
orders exactly once.
"""

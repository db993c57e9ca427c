"""What an order is.

Tokens and exact amounts, orders, their events and state machine, routes, the resting book
and its trigger rules. Plain Python: it imports nothing but the standard library (an import
contract says so).
"""

"""Exact integer AMM math of the venues Eterna routes across.

Each pool is an immutable snapshot: ``swap`` returns the result and the pool after the swap,
so a quote is just a swap whose new state is thrown away, and execution at an unchanged
state pays exactly what the quote said.
"""

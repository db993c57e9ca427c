"""Differential checks: our AMM math against the real programs, swap by swap, to the base unit."""

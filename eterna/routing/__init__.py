"""Finding the best route.

The venue port (what a DEX venue answers), quote ladders, splits across pools, two-hop
candidates through the hubs, and the router that chooses among them.
"""

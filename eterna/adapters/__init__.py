"""Adapters of the application's ports to the outside world.

JWT auth, the event transport, Prometheus metrics, the web pieces (order page, client
address, limits), Solana (accounts, instructions, venues, the gateway and market data over
JSON-RPC) and the local chain. The GraphQL layer, the queue and storage are adapters too,
in the top-level ``schema``, ``tasks`` and ``models`` packages.
"""

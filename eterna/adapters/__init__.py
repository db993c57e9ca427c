"""Adapters of the application's ports to the outside world.

JWT auth, the event transport, Prometheus metrics, the web pieces (order page, client
address, limits), the market sandbox and its venue adapters, Solana (accounts, instructions)
and the local chain. The GraphQL layer, the queue and storage are adapters too, in the
top-level ``schema``, ``tasks`` and ``models`` packages.
"""

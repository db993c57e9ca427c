"""The HTTP and websocket pieces around the GraphQL endpoint.

The order page, the client's address behind proxies, body and connection limits, and memory
given back after floods.
"""

"""What Eterna does, on ports only.

The order service (place, read, cancel, watch), the execution engine, the trigger watcher,
the reconciler, event streams to subscribers, rate limits and read budgets. Storage, queue,
venues and transports are adapters behind the ports in :mod:`.ports`.
"""

"""The taskiq side: the broker, the execute-order task, the queue adapter, the reconciler."""

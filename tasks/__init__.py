"""The queue: the fair broker over per-user lanes and its consumer.

Also the execute-order task, the watcher's intake and the watcher's Redis lock.
"""

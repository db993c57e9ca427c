"""The composition roots and commands.

Settings, wiring every piece for a run mode (:mod:`.bootstrap`), the ASGI app, the worker,
the command line.
"""

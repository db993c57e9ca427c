"""Run the ``eterna`` command line on uvloop (an experiment: the worker runs on asyncio's loop).

``eterna serve`` already runs on uvloop (uvicorn picks it); ``eterna worker`` calls
``asyncio.run``, which uses the default loop. Installing uvloop's policy first shows what the
worker would gain, without changing the source:

    python bench/with_uvloop.py worker        # same arguments as ``eterna``
"""

from __future__ import annotations

import asyncio
import sys

import uvloop

if __name__ == "__main__":
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from eterna.cli import main

    main(sys.argv[1:])

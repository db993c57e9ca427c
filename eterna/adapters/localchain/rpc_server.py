"""Composition root of ``eterna chain``: the local node as a Solana JSON-RPC server.

One port serves it all, as hosted RPC providers do:

- ``POST /`` JSON-RPC 2.0 (single requests and batches) with the methods of
  :mod:`.rpc_methods` and the shapes and error codes of a Solana node;
- websocket ``/`` the subscriptions of :mod:`.rpc_pubsub`;
- ``GET /health`` ``ok`` (a Solana node's health endpoint);
- ``/admin/*`` the endpoints of :mod:`.rpc_admin`.

An injected RPC error (the fault plan) is answered with HTTP 503, as an overloaded node
behind a load balancer answers; the body still says why in a JSON-RPC error object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from eterna.adapters.localchain.node import LocalNode
from eterna.adapters.localchain.rpc_admin import AdminApi
from eterna.adapters.localchain.rpc_dispatch import PARSE_ERROR_BODY, UnavailableFault, error_body
from eterna.adapters.localchain.rpc_params import RpcFault
from eterna.adapters.localchain.rpc_pubsub import PubsubSession, SessionClosedError
from eterna.adapters.localchain.rpc_service import ChainRpc
from eterna.adapters.solana.rpc_errors import INTERNAL_ERROR

log = logging.getLogger(__name__)

_JSON = "application/json"
# Close code for a client cut off because it could not keep up (RFC 6455: policy violation).
_CLOSE_LAGGED = 1008
# Status recorded for a request whose client went away before sending all of it (nginx's).
_CLIENT_CLOSED = 499


async def _rpc(chain: ChainRpc, request: Request) -> Response:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return Response(orjson.dumps(PARSE_ERROR_BODY), media_type=_JSON)
    except ClientDisconnect:
        # A client gone mid-request (a killed worker) is no fault of the node: nobody reads
        # the answer, and nothing was done.
        return Response(status_code=_CLIENT_CLOSED)
    try:
        answer = await chain.dispatcher.answer(body)
    except UnavailableFault as fault:
        error = error_body(RpcFault(INTERNAL_ERROR, fault.message), None)
        return Response(orjson.dumps(error), status_code=fault.status, media_type=_JSON)
    if answer is None:
        return Response(status_code=204)
    return Response(orjson.dumps(answer), media_type=_JSON)


async def _websocket(chain: ChainRpc, websocket: WebSocket) -> None:
    await websocket.accept()
    session = chain.session()
    writer = asyncio.create_task(_write(session, websocket))
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            try:
                # Text frames, as clients send them; binary ones are read as JSON too.
                message = orjson.loads(frame.get("text") or frame.get("bytes") or b"")
            except orjson.JSONDecodeError:
                await websocket.send_text(orjson.dumps(PARSE_ERROR_BODY).decode())
                continue
            await session.handle(message)
    except WebSocketDisconnect:
        pass
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await session.close()


async def _write(session: PubsubSession, websocket: WebSocket) -> None:
    try:
        while True:
            message = await session.next_message()
            await websocket.send_text(orjson.dumps(message).decode())
    except SessionClosedError as exc:
        log.info("closing a subscription websocket: %s", exc)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(_CLOSE_LAGGED, str(exc)[:120])
    except (RuntimeError, WebSocketDisconnect):
        pass  # the client went away mid-send


def create_chain_app(node: LocalNode, *, manage_lifecycle: bool = True) -> Starlette:
    """Return the app serving node over JSON-RPC (it runs the node's slots when asked to)."""
    chain = ChainRpc(node)
    admin = AdminApi(node)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_lifecycle:
            node.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await node.stop()

    async def rpc(request: Request) -> Response:
        return await _rpc(chain, request)

    async def websocket(ws: WebSocket) -> None:
        await _websocket(chain, ws)

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/", rpc, methods=["POST"]),
            WebSocketRoute("/", websocket),
            Route("/health", health),
            Route("/admin/faults", admin.faults, methods=["GET", "POST"]),
            Route("/admin/launch", admin.launch, methods=["POST"]),
            Route("/admin/move-price", admin.move_price, methods=["POST"]),
            Route("/admin/ledger", admin.ledger),
            Route("/admin/pools", admin.pools),
            Route("/admin/advance", admin.advance, methods=["POST"]),
        ],
        lifespan=lifespan,
    )

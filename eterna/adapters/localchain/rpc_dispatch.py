"""JSON-RPC 2.0 framing of the local node: requests, batches, error objects, faults.

:class:`Dispatcher` turns a parsed request body (one request or a batch) into the body to
answer with, calling the method table's handlers. It is the one place both the ``eterna
chain`` server and the in-process ``LocalRpc`` go through, so they answer alike, injected
faults included: once per HTTP request, the fault plan sleeps its latency and may fail the
request, which the server answers with HTTP 503 (:class:`UnavailableFault`), as a node
behind a load balancer does when it is overwhelmed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from eterna.adapters.localchain.faults import FaultPlan, InjectedRpcError
from eterna.adapters.localchain.rpc_params import RpcFault
from eterna.adapters.solana.rpc_errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
)

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[Any]]
UNAVAILABLE_STATUS = 503


class UnavailableFault(Exception):  # noqa: N818 - an HTTP answer, raised to answer with it
    """The request is answered with an HTTP error status instead of a JSON-RPC body."""

    def __init__(self, message: str, status: int = UNAVAILABLE_STATUS) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error_body(fault: RpcFault, request_id: Any) -> dict[str, Any]:
    """Return the response object carrying an error."""
    return {"jsonrpc": "2.0", "error": fault.to_json(), "id": request_id}


PARSE_ERROR_BODY = error_body(RpcFault(PARSE_ERROR, "Parse error"), None)


class Dispatcher:
    """Answers JSON-RPC bodies from a method table; see the module docstring."""

    def __init__(self, methods: Mapping[str, Handler], faults: FaultPlan | None) -> None:
        self._methods = methods
        self._faults = faults

    async def before_request(self) -> None:
        """Apply the fault plan's latency and injected errors to one HTTP request.

        :raises UnavailableFault: for an injected error.
        """
        if self._faults is None:
            return
        try:
            await self._faults.before_call()
        except InjectedRpcError as exc:
            raise UnavailableFault(str(exc)) from exc

    async def answer(self, body: Any) -> Any:
        """Return the response body for a request body, None when nothing is to be sent.

        :raises UnavailableFault: when the request is answered with an HTTP status.
        """
        await self.before_request()
        if isinstance(body, list):
            if not body:
                return error_body(RpcFault(INVALID_REQUEST, "Invalid request"), None)
            answers = [await self.answer_one(item) for item in body]
            present = [a for a in answers if a is not None]
            return present or None
        return await self.answer_one(body)

    async def answer_one(self, request: Any) -> dict[str, Any] | None:
        """Return the response object of one request (None for a notification)."""
        if (
            not isinstance(request, dict)
            or request.get("jsonrpc") != "2.0"
            or not isinstance(request.get("method"), str)
        ):
            request_id = request.get("id") if isinstance(request, dict) else None
            return error_body(RpcFault(INVALID_REQUEST, "Invalid request"), request_id)
        is_notification = "id" not in request
        request_id = request.get("id")
        try:
            result = await self.call(request["method"], request.get("params"))
        except RpcFault as fault:
            return None if is_notification else error_body(fault, request_id)
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "result": result, "id": request_id}

    async def call(self, method: str, params: Any) -> Any:
        """Run one method and return its result.

        :raises RpcFault: the error object to answer with.
        :raises UnavailableFault: when the request is answered with an HTTP status.
        """
        handler = self._methods.get(method)
        if handler is None:
            raise RpcFault(METHOD_NOT_FOUND, "Method not found")
        try:
            return await handler(params)
        except (RpcFault, UnavailableFault):
            raise
        except InjectedRpcError as exc:
            raise UnavailableFault(str(exc)) from exc
        except Exception as exc:
            # A bug of the node, not of the request: logged in full, answered as a node does.
            log.exception("JSON-RPC %s failed", method)
            raise RpcFault(INTERNAL_ERROR, "Internal error") from exc

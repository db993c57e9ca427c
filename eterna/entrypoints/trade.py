"""The trading commands: ``eterna order place|list|watch|cancel`` and ``eterna quote``.

They use the public GraphQL API of a running server, as any client would
(:mod:`eterna.adapters.client.api`): the address from ``--url`` or ``ETERNA_URL``, the
token from ``--token`` or ``ETERNA_TOKEN``. Tables for people by default, JSON with
``--json`` (one object per step for ``watch``). A failure is one line on stderr,
``eterna: CODE: message``, and exit status 1; ``watch`` exits 3 when the order ends other
than CONFIRMED.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from eterna.entrypoints import trade_output as out

if TYPE_CHECKING:
    from eterna.adapters.client.api import EternaClient

Json = dict[str, Any]
DEFAULT_URL = "http://127.0.0.1:8000"
NOT_CONFIRMED = 3
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _emit(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2) if args.json else text, flush=True)


def duration(text: str) -> timedelta:
    """Parse ``90s``, ``30m``, ``12h`` or ``7d``."""
    found = _DURATION.match(text)
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30m, 12h or 7d")
    return timedelta(**{_UNITS[found[2]]: int(found[1])})


def _type_name(text: str) -> str:
    """Return the GraphQL name of an order type as typed: ``stop-loss`` -> ``STOP_LOSS``."""
    return text.upper().replace("-", "_")


def _order_input(args: argparse.Namespace) -> Json:
    """Build the OrderInput of ``order place`` (amounts stay strings: they are exact)."""
    expires_at = args.expires_at
    if args.expires_in is not None:
        expires_at = (datetime.now(UTC) + args.expires_in).isoformat()
    fields = {
        "type": _type_name(args.type),
        "tokenIn": args.token_in,
        "tokenOut": args.token_out,
        "amountIn": args.amount,
        "slippageBps": args.slippage_bps,
        "maxSlippageBps": args.max_slippage_bps,
        "limitPrice": args.limit_price,
        "allOrNone": True if args.all_or_none else None,
        "minFillAmount": args.min_fill,
        "triggerPrice": args.trigger_price,
        "trailBps": args.trail_bps,
        "slices": args.slices,
        "durationSeconds": int(args.over.total_seconds()) if args.over is not None else None,
        "jitterBps": args.jitter_bps,
        "minLiquidity": args.min_liquidity,
        "maxPriceImpactBps": args.max_price_impact_bps,
        "expiresAt": expires_at,
        "clientOrderId": args.client_order_id,
    }
    return {k: v for k, v in fields.items() if v is not None}


async def _place(client: EternaClient, args: argparse.Namespace) -> int:
    order = await client.place(_order_input(args))
    _emit(args, order, out.order_text(order))
    if args.watch:
        return await _follow(client, args, order["id"], 0)
    return 0


async def _list(client: EternaClient, args: argparse.Namespace) -> int:
    page = await client.orders(
        first=args.first,
        after=args.after,
        status=args.status and args.status.upper(),
        order_type=args.type and args.type.upper(),
    )
    _emit(args, page, out.orders_table(page))
    return 0


async def _watch(client: EternaClient, args: argparse.Namespace) -> int:
    return await _follow(client, args, args.id, args.after_seq)


async def _follow(client: EternaClient, args: argparse.Namespace, order_id: str, after: int) -> int:
    """Print each step as it happens; the exit status says whether the order confirmed."""
    last: Json | None = None
    async for event in client.watch(order_id, after):
        last = event
        print(json.dumps(event) if args.json else out.step_line(event), flush=True)
    if last is None or last["status"] in out.TERMINAL - {"CONFIRMED"}:
        return NOT_CONFIRMED if last is not None else 0
    return 0


async def _cancel(client: EternaClient, args: argparse.Namespace) -> int:
    order = await client.cancel(args.id)
    _emit(args, order, f"cancelled {order['id']} ({out.pair(order)})")
    return 0


async def _quote(client: EternaClient, args: argparse.Namespace) -> int:
    result = await client.quote(args.token_in, args.token_out, args.amount, args.slippage_bps)
    _emit(args, result, out.quote_text(result))
    return 0


Action = Callable[["EternaClient", argparse.Namespace], Coroutine[Any, Any, int]]


def _runner(action: Action) -> Callable[[argparse.Namespace], None]:
    """Wrap an action: build the client, run it, turn a ClientError into one line."""

    def run(args: argparse.Namespace) -> None:
        from eterna.adapters.client.api import ClientError, EternaClient  # noqa: PLC0415

        token = args.token or os.environ.get("ETERNA_TOKEN") or None
        client = EternaClient(args.url or os.environ.get("ETERNA_URL") or DEFAULT_URL, token)
        try:
            status = asyncio.run(action(client, args))
        except ClientError as exc:
            hint = ""
            if exc.code == "UNAUTHENTICATED" and not token:
                hint = " (set ETERNA_TOKEN or --token; `eterna token USER` prints one)"
            print(f"eterna: {exc}{hint}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        except KeyboardInterrupt:
            raise SystemExit(130) from None
        if status:
            raise SystemExit(status)

    return run


def _client_options() -> argparse.ArgumentParser:
    """Return the options every trading command shares."""
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--url", help=f"the server (default ETERNA_URL or {DEFAULT_URL})")
    shared.add_argument("--token", help="a JWT from `eterna token USER` (default ETERNA_TOKEN)")
    shared.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return shared


def _add(sub: Any, name: str, summary: str, action: Action) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        parents=[_client_options()],
    )
    parser.set_defaults(func=_runner(action))
    return parser


def _place_parser(orders: Any) -> None:
    place = _add(orders, "place", "place an order (and with --watch, follow it)", _place)
    place.add_argument(
        "type",
        choices=["market", "limit", "sniper", "stop-loss", "take-profit", "trailing-stop", "twap"],
        type=str.lower,
        help="the order type",
    )
    place.add_argument("token_in", metavar="TOKEN_IN", help='symbol ("SOL") or mint to pay in')
    place.add_argument("token_out", metavar="TOKEN_OUT", help="symbol or mint to buy")
    place.add_argument("amount", metavar="AMOUNT", help='amount of TOKEN_IN, exact ("1.25")')
    place.add_argument("--slippage-bps", type=int, metavar="BPS", help="1..5000 (default 50)")
    place.add_argument(
        "--max-slippage-bps",
        type=int,
        metavar="BPS",
        help="1..5000: adaptive, each attempt's tolerance up to this (not with --slippage-bps)",
    )
    place.add_argument(
        "--limit-price", metavar="PRICE", help="limit, stops, twap slices: least TOKEN_OUT per 1 in"
    )
    place.add_argument(
        "--all-or-none",
        action="store_true",
        help="limit: fill the whole amount at once or not at all (default: fills in parts)",
    )
    place.add_argument(
        "--min-fill", metavar="AMOUNT", help="limit filling in parts: least TOKEN_IN a fill"
    )
    place.add_argument("--min-liquidity", metavar="AMOUNT", help="sniper: least pool depth")
    place.add_argument(
        "--trigger-price", metavar="PRICE", help="stop-loss, take-profit: TOKEN_OUT per 1 in"
    )
    place.add_argument(
        "--trail-bps", type=int, metavar="BPS", help="trailing-stop: 1..5000 below the best"
    )
    place.add_argument("--slices", type=int, metavar="N", help="twap: 1..100 slices")
    place.add_argument(
        "--over", type=duration, metavar="DURATION", help="twap: placed over e.g. 10m, 2h"
    )
    place.add_argument(
        "--jitter-bps", type=int, metavar="BPS", help="twap: 0..5000 of the slice interval"
    )
    place.add_argument(
        "--max-price-impact-bps", type=int, metavar="BPS", help="refuse routes moving it more"
    )
    expiry = place.add_mutually_exclusive_group()
    expiry.add_argument("--expires-in", type=duration, metavar="DURATION", help="e.g. 12h, 7d")
    expiry.add_argument("--expires-at", metavar="TIME", help="ISO 8601, e.g. 2026-01-31T12:00Z")
    place.add_argument("--client-order-id", metavar="KEY", help="idempotency key")
    place.add_argument("--watch", action="store_true", help="then follow its steps live")


def add_trading_commands(sub: Any) -> None:
    """Register ``order`` (place, list, watch, cancel) and ``quote`` on the CLI's commands."""
    order = sub.add_parser(
        "order",
        help="place, list, watch and cancel orders on a running server",
        description="Trade on a running Eterna through its public API.",
    )
    orders = order.add_subparsers(
        dest="order_command", required=True, metavar="ACTION", help="what to do"
    )
    _place_parser(orders)
    listing = _add(orders, "list", "list your orders, newest first", _list)
    listing.add_argument("--status", type=str.upper, help="only orders in this status")
    listing.add_argument("--type", type=_type_name, help="only orders of this type (limit, ...)")
    listing.add_argument("--first", type=int, metavar="N", help="page size")
    listing.add_argument("--after", metavar="CURSOR", help="the page after this cursor")
    watch = _add(orders, "watch", "follow an order's steps live until it ends", _watch)
    watch.add_argument("id", metavar="ID", help="the order to follow")
    watch.add_argument("--after-seq", type=int, default=0, metavar="SEQ", help="skip steps")
    cancel = _add(orders, "cancel", "cancel a PENDING or WAITING order", _cancel)
    cancel.add_argument("id", metavar="ID", help="the order to cancel")
    quote = _add(sub, "quote", "preview the route of a market order", _quote)
    quote.add_argument("token_in", metavar="TOKEN_IN", help="symbol or mint to pay in")
    quote.add_argument("token_out", metavar="TOKEN_OUT", help="symbol or mint to buy")
    quote.add_argument("amount", metavar="AMOUNT", help="amount of TOKEN_IN, exact")
    quote.add_argument("--slippage-bps", type=int, metavar="BPS", help="1..5000 (default 50)")

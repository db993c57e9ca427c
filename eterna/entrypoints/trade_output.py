"""What the trading commands print: tables for people, a progress bar for live steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Json = dict[str, Any]

# The way to CONFIRMED; WAITING rests between PENDING and ROUTING.
PIPELINE = ("PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED")
TERMINAL = frozenset({"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"})


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return rows under their headers, each column as wide as its widest cell."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _symbol(token: Json) -> str:
    return str(token.get("symbol") or token["mint"])


def pair(order: Json) -> str:
    """Say what an order swaps: ``1 SOL -> USDC``."""
    return f"{order['amountIn']} {_symbol(order['tokenIn'])} -> {_symbol(order['tokenOut'])}"


def order_text(order: Json) -> str:
    """Describe one order, one field a line."""
    fields = [
        ("id", order["id"]),
        ("type", order["type"]),
        ("status", order["status"]),
        ("swap", pair(order)),
        (
            "slippage",
            f"adaptive, at most {order['maxSlippageBps']} bps"
            if order.get("maxSlippageBps")
            else f"{order['slippageBps']} bps",
        ),
        ("limit price", order.get("limitPrice")),
        ("trigger price", order.get("triggerPrice")),
        ("trail", f"{order['trailBps']} bps" if order.get("trailBps") else None),
        ("best price", order.get("bestPrice")),
        ("expires at", order.get("expiresAt")),
        ("client order id", order.get("clientOrderId")),
        ("fills", _fills(order)),
        ("amount out", order.get("amountOut")),
        ("executed price", order.get("executedPrice")),
        ("tx signature", order.get("txSignature")),
        ("failure", order.get("failureReason")),
        ("created at", order["createdAt"]),
    ]
    return "\n".join(f"{name + ':':<17}{value}" for name, value in fields if value is not None)


def _fills(order: Json) -> str | None:
    """Say how much of a LIMIT order filling in parts has traded: ``1000 of 6600 SOL``."""
    if order.get("allOrNone", True):
        return None
    spent = f"{order['filledAmountIn']} of {order['amountIn']} {_symbol(order['tokenIn'])}"
    return f"{spent} filled (at least {order['minFillAmount']} a fill)"


def orders_table(page: Json) -> str:
    """Tabulate a page of orders, with the option that shows the next one."""
    rows = [
        [
            node["id"],
            node["type"],
            node["status"],
            pair(node),
            str(node.get("amountOut") or "-"),
            node["createdAt"][:19].replace("T", " "),
        ]
        for node in (edge["node"] for edge in page["edges"])
    ]
    if not rows:
        return "no orders"
    text = table(["ID", "TYPE", "STATUS", "SWAP", "OUT", "CREATED (UTC)"], rows)
    info = page["pageInfo"]
    if info["hasNextPage"]:
        text += f"\nmore: --after {info['endCursor']}"
    return text


def progress(status: str, width: int = len(PIPELINE)) -> str:
    """Return a bar of how far along the way to CONFIRMED a status is."""
    if status == "CONFIRMED":
        done = width
    elif status in {"FAILED", "CANCELLED", "EXPIRED"}:
        return "[" + "x" * width + "]"
    elif status == "WAITING":
        done = 1
    else:
        done = PIPELINE.index(status) + 1 if status in PIPELINE else 0
    return "[" + "#" * done + "." * (width - done) + "]"


def step_line(event: Json) -> str:
    """Describe one step: the bar, seq, status and what happened."""
    text = (
        f"{progress(event['status'])} {event['seq']:>3}  {event['status']:<9}  {event['message']}"
    )
    if event.get("failure"):
        text += f" ({event['failure']})"
    return text


def quote_text(result: Json) -> str:
    """Describe a route preview: every venue's quote, then the chosen legs."""
    route = result["route"]
    quotes = table(
        ["VENUE", "POOL", "OUT", "FEE", "IMPACT"],
        [
            [q["venue"], q["pool"], q["amountOut"], q["fee"], f"{q['priceImpactBps']} bps"]
            for q in result["quotes"]
        ],
    )
    legs = table(
        ["VENUE", "POOL", "IN", "OUT", "FEE"],
        [
            [
                leg["venue"],
                leg["pool"],
                f"{leg['amountIn']} {leg['tokenIn']['symbol'] or ''}".rstrip(),
                f"{leg['amountOut']} {leg['tokenOut']['symbol'] or ''}".rstrip(),
                leg["fee"],
            ]
            for leg in route["legs"]
        ],
    )
    return (
        f"route: {route['amountIn']} in -> {route['amountOut']} out "
        f"(at least {route['minAmountOut']}, impact {route['priceImpactBps']} bps)\n\n"
        f"{legs}\n\nquotes (best single pool per venue):\n{quotes}"
    )

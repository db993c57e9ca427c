"""Our GraphiQL page: subscriptions authenticate, and a ready example opens first.

Browsers cannot put headers on a websocket handshake, and GraphiQL's stock fetcher sends the
Headers tab only over HTTP. Ours hands the same headers to ``connection_init``, where the
server reads ``Authorization``, so a subscription works with the token already pasted there.
The page is ours, not a regex edit of the page strawberry ships: GraphiQL, React and the
page's own script load from this server (``eterna.adapters.web.graphiql_files``), and the
example travels as a JSON block, so the page runs under a policy that allows no inline
script and needs no network beyond the server.
"""

from __future__ import annotations

import html
import json

from eterna.adapters.web.graphiql_files import PREFIX, SCRIPTS, STYLES

# Operations and fragments from examples/*.graphql, verbatim: tests/unit/test_examples.py
# fails when they drift apart. The file is not read at run time, so an installed package
# (without examples/) serves the same page.
EXAMPLE = """# Eterna: paste your token in Headers as {"Authorization": "Bearer <token>"}
# (`eterna serve` prints one). Run PlaceMarketOrder, put the id it returns in the
# Variables as "orderId", then run OrderEvents to watch every step, and Orders for
# your history. Every operation here is one of examples/*.graphql.

mutation PlaceMarketOrder(
  $tokenIn: String!
  $tokenOut: String!
  $amountIn: Decimal!
  $slippageBps: Int
  $maxPriceImpactBps: Int
  $clientOrderId: String
  $maxSlippageBps: Int
) {
  placeOrder(
    input: {
      type: MARKET
      tokenIn: $tokenIn
      tokenOut: $tokenOut
      amountIn: $amountIn
      slippageBps: $slippageBps
      maxPriceImpactBps: $maxPriceImpactBps
      clientOrderId: $clientOrderId
      maxSlippageBps: $maxSlippageBps
    }
  ) {
    __typename
    ... on OrderPlaced { order { ...OrderFields } }
    ... on OrderRejected { ...RejectionFields }
  }
}

subscription OrderEvents($orderId: ID!, $afterSeq: Int = 0) {
  orderEvents(orderId: $orderId, afterSeq: $afterSeq) { ...EventFields }
}

query Orders($first: Int = 20, $after: String, $status: OrderStatus, $type: OrderType) {
  orders(first: $first, after: $after, status: $status, type: $type) {
    edges {
      cursor
      node { ...OrderFields }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}

fragment TokenFields on Token {
  mint
  symbol
  decimals
}

fragment QuoteFields on Quote {
  venue
  pool
  amountOut
  fee
  priceImpactBps
}

fragment RouteFields on Route {
  amountIn
  amountOut
  minAmountOut
  priceImpactBps
  legs {
    venue
    pool
    tokenIn { ...TokenFields }
    tokenOut { ...TokenFields }
    amountIn
    amountOut
    fee
  }
}

fragment OrderFields on Order {
  id
  clientOrderId
  type
  status
  tokenIn { ...TokenFields }
  tokenOut { ...TokenFields }
  amountIn
  slippageBps
  maxSlippageBps
  limitPrice
  triggerPrice
  trailBps
  bestPrice
  expiresAt
  attempts
  route { ...RouteFields }
  amountOut
  executedPrice
  allOrNone
  minFillAmount
  filledAmountIn
  remainingAmountIn
  fills { amountIn amountOut price txSignature at seq }
  txSignature
  failureReason
  createdAt
  updatedAt
  groupId
}

fragment EventFields on OrderEvent {
  orderId
  seq
  status
  at
  attempt
  message
  quotes { ...QuoteFields }
  route { ...RouteFields }
  txSignature
  amountOut
  executedPrice
  error
  trigger { kind price triggerPrice bestPrice limitPrice pool venue }
  cancelledBySibling
  fill { amountIn amountOut price }
}

fragment RejectionFields on OrderRejected {
  code
  message
  field
  retryAfterSeconds
}
"""
EXAMPLE_VARIABLES = {
    "tokenIn": "SOL",
    "tokenOut": "USDC",
    "amountIn": "1",
    "orderId": "<the id PlaceMarketOrder returned>",
    "afterSeq": 0,
    "first": 10,
}

_ASSETS = "".join(
    [f'\n    <link rel="stylesheet" href="{PREFIX}/{name}" />' for name in STYLES]
    + [f'\n    <script src="{PREFIX}/{name}" defer></script>' for name in SCRIPTS]
)


def page_data(style_nonce: str) -> str:
    """Return the example operations, their variables and the page's style nonce as JSON."""
    data = {
        "query": EXAMPLE,
        "variables": json.dumps(EXAMPLE_VARIABLES, indent=2),
        "styleNonce": style_nonce,
    }
    # JSON inside a script element: "</" must not end the element early.
    return json.dumps(data).replace("</", "<\\/")


def playground_html(style_nonce: str = "", title: str = "Eterna GraphiQL") -> str:
    """Return the GraphiQL page with the authenticating fetcher and Eterna's example.

    ``style_nonce`` is the nonce the page's policy admits for GraphiQL's own style element
    (``eterna.adapters.web.graphiql_files.content_security_policy``): fresh for every page.
    """
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>{html.escape(title)}</title>{_ASSETS}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script type="application/json" id="eterna-example">{page_data(style_nonce)}</script>
  </body>
</html>
"""

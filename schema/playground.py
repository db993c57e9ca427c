"""GraphiQL, adapted so subscriptions authenticate and a ready example opens first.

Browsers cannot put headers on a websocket handshake, and GraphiQL's stock fetcher sends the
Headers tab only over HTTP. Ours hands the same headers to ``connection_init``, where the
server reads ``Authorization``, so a subscription works with the token already pasted there.
"""

from __future__ import annotations

import json
import re

from strawberry.http.ides import get_graphql_ide_html

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
  limitPrice
  expiresAt
  attempts
  route { ...RouteFields }
  amountOut
  executedPrice
  txSignature
  failureReason
  createdAt
  updatedAt
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

_STOCK_FETCHER = re.compile(r"const fetcher = GraphiQL\.createFetcher\(\{.*?\}\);", flags=re.DOTALL)
_AUTHENTICATING_FETCHER = """const fetcher = (params, opts) =>
        GraphiQL.createFetcher({
          url: fetchURL,
          headers: defaultHeaders,
          subscriptionUrl,
          wsConnectionParams: (opts && opts.headers) || {},
        })(params, opts);"""
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", flags=re.DOTALL)
_STOCK_VARIABLES = re.compile(r"React\.useState\(\s*parameters\.variables,\s*\)")


def playground_html() -> str:
    """Return the GraphiQL page with the authenticating fetcher and Eterna's example."""
    html = get_graphql_ide_html("graphiql")
    html, fetchers = _STOCK_FETCHER.subn(_AUTHENTICATING_FETCHER, html)
    example = (
        f"const EXAMPLE_QUERY = {json.dumps(EXAMPLE)};\n"
        f"      const EXAMPLE_VARIABLES = {json.dumps(json.dumps(EXAMPLE_VARIABLES, indent=2))};"
    )
    html, examples = _EXAMPLE_QUERY.subn(lambda _: example, html)
    # A variables pane already filled in makes the example run as it is.
    html, variables = _STOCK_VARIABLES.subn(
        "React.useState(parameters.variables || EXAMPLE_VARIABLES)", html
    )
    if (fetchers, examples, variables) != (1, 1, 1):  # the stock page changed: fail in tests
        raise RuntimeError("GraphiQL page layout changed; update schema/playground.py")
    return html

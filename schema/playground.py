"""Our GraphiQL page: subscriptions authenticate, and a ready example opens first.

Browsers cannot put headers on a websocket handshake, and GraphiQL's stock fetcher sends the
Headers tab only over HTTP. Ours hands the same headers to ``connection_init``, where the
server reads ``Authorization``, so a subscription works with the token already pasted there.
The page is ours (GraphiQL and React load from the CDN, pinned and checked by their
hashes), not a regex edit of the page strawberry ships.
"""

from __future__ import annotations

import html
import json

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
  triggerPrice
  trailBps
  bestPrice
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
  trigger { kind price triggerPrice bestPrice limitPrice pool venue }
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

# GraphiQL 3.8.3 on React 18.2.0, from unpkg, each checked by its subresource integrity hash.
_ASSETS = """
    <link rel="stylesheet" crossorigin="anonymous"
      href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css"
      integrity="sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM" />
    <script crossorigin="anonymous"
      src="https://unpkg.com/react@18.2.0/umd/react.production.min.js"
      integrity="sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"></script>
    <script crossorigin="anonymous"
      src="https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js"
      integrity="sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"></script>
    <script crossorigin="anonymous"
      src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"
      integrity="sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"></script>
"""

# The fetcher reads the Headers tab on every operation and sends it as connection_init's
# payload too: a websocket is opened per subscription with the headers of that moment.
_SCRIPT = """
      const url = window.location.href.split("?")[0].split("#")[0];
      const socketUrl = url.replace(/^http/, "ws");
      const fetcher = (params, opts) =>
        GraphiQL.createFetcher({
          url,
          subscriptionUrl: socketUrl,
          wsConnectionParams: (opts && opts.headers) || {},
        })(params, opts);
      function Playground() {
        const [query, setQuery] = React.useState(EXAMPLE_QUERY);
        const [variables, setVariables] = React.useState(EXAMPLE_VARIABLES);
        return React.createElement(GraphiQL, {
          fetcher,
          query,
          variables,
          onEditQuery: setQuery,
          onEditVariables: setVariables,
          defaultEditorToolsVisibility: true,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
          inputValueDeprecation: true,
        });
      }
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(Playground),
      );
"""


def playground_html(title: str = "Eterna GraphiQL") -> str:
    """Return the GraphiQL page with the authenticating fetcher and Eterna's example."""
    # JSON inside a script: "</" must not end the script element early.
    query = json.dumps(EXAMPLE).replace("</", "<\\/")
    variables = json.dumps(json.dumps(EXAMPLE_VARIABLES, indent=2)).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>{html.escape(title)}</title>
    <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>{_ASSETS}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script>
      const EXAMPLE_QUERY = {query};
      const EXAMPLE_VARIABLES = {variables};{_SCRIPT}    </script>
  </body>
</html>
"""

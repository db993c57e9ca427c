"""GraphiQL, adapted so subscriptions authenticate and a ready example opens first.

Browsers cannot put headers on a websocket handshake, and GraphiQL's stock fetcher sends the
Headers tab only over HTTP. Ours hands the same headers to ``connection_init``, where the
server reads ``Authorization``, so a subscription works with the token already pasted there.
"""

from __future__ import annotations

import json
import re

from strawberry.http.ides import get_graphql_ide_html

EXAMPLE = """# Eterna: paste your token in Headers as {"Authorization": "Bearer <token>"}
# (`eterna serve` prints one), run PlaceOrder, then run Watch with the order id.

mutation PlaceOrder {
  placeOrder(input: {type: MARKET, tokenIn: "SOL", tokenOut: "USDC", amountIn: "1"}) {
    __typename
    ... on OrderPlaced { order { id status } }
    ... on OrderRejected { code message field }
  }
}

subscription Watch($id: ID!) {
  orderEvents(orderId: $id) {
    seq status message txSignature amountOut executedPrice
    route { amountOut minAmountOut legs { venue amountIn amountOut } }
  }
}

query History {
  orders(first: 10) { edges { node { id status amountIn amountOut executedPrice } } }
}
"""

_STOCK_FETCHER = re.compile(r"const fetcher = GraphiQL\.createFetcher\(\{.*?\}\);", flags=re.DOTALL)
_AUTHENTICATING_FETCHER = """const fetcher = (params, opts) =>
        GraphiQL.createFetcher({
          url: fetchURL,
          headers: defaultHeaders,
          subscriptionUrl,
          wsConnectionParams: (opts && opts.headers) || {},
        })(params, opts);"""
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", flags=re.DOTALL)


def playground_html() -> str:
    """Return the GraphiQL page with the authenticating fetcher and Eterna's example."""
    html = get_graphql_ide_html("graphiql")
    html, fetchers = _STOCK_FETCHER.subn(_AUTHENTICATING_FETCHER, html)
    html, examples = _EXAMPLE_QUERY.subn(
        lambda _: f"const EXAMPLE_QUERY = {json.dumps(EXAMPLE)};", html
    )
    if fetchers != 1 or examples != 1:  # the stock page changed shape: fail loudly in tests
        raise RuntimeError("GraphiQL page layout changed; update schema/playground.py")
    return html

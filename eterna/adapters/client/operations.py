"""The GraphQL documents the trading commands send: public operations only."""

from __future__ import annotations

ORDER_FIELDS = """
fragment CliOrder on Order {
  id clientOrderId type status amountIn slippageBps maxSlippageBps limitPrice triggerPrice
  trailBps bestPrice expiresAt attempts
  tokenIn { symbol mint } tokenOut { symbol mint }
  amountOut executedPrice allOrNone minFillAmount filledAmountIn remainingAmountIn
  txSignature failureReason createdAt updatedAt
}
"""

PLACE = (
    """
mutation CliPlace($input: OrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderPlaced { order { ...CliOrder } }
    ... on OrderRejected { code message field retryAfterSeconds }
  }
}
"""
    + ORDER_FIELDS
)

LIST = (
    """
query CliOrders($first: Int, $after: String, $status: OrderStatus, $type: OrderType) {
  orders(first: $first, after: $after, status: $status, type: $type) {
    edges { node { ...CliOrder } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + ORDER_FIELDS
)

CANCEL = (
    """
mutation CliCancel($id: ID!) {
  cancelOrder(id: $id) {
    __typename
    ... on OrderCancelled { order { ...CliOrder } }
    ... on CancelRejected { code message retryAfterSeconds }
  }
}
"""
    + ORDER_FIELDS
)

QUOTE = """
query CliQuote($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $slippageBps: Int) {
  quote(tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, slippageBps: $slippageBps) {
    __typename
    ... on RouteQuote {
      route {
        amountIn amountOut minAmountOut priceImpactBps
        legs { venue pool amountIn amountOut fee tokenIn { symbol } tokenOut { symbol } }
      }
      quotes { venue pool amountOut fee priceImpactBps }
    }
    ... on QuoteRejected { code message retryAfterSeconds }
  }
}
"""

WATCH = """
subscription CliWatch($orderId: ID!, $afterSeq: Int) {
  orderEvents(orderId: $orderId, afterSeq: $afterSeq) {
    orderId seq status at attempt message txSignature amountOut executedPrice error failure
  }
}
"""

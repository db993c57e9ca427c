from .async_base_client import AsyncBaseClient
from .base_model import BaseModel, Upload
from .cancel_order import (
    CancelOrder,
    CancelOrderCancelOrderCancelRejected,
    CancelOrderCancelOrderOrderCancelled,
    CancelOrderCancelOrderOrderCancelledOrder,
)
from .client import EternaClient
from .enums import FailureKind, OrderStatus, OrderType, RejectionCode
from .exceptions import (
    GraphQLClientError,
    GraphQLClientGraphQLError,
    GraphQLClientGraphQLMultiError,
    GraphQLClientHttpError,
    GraphQLClientInvalidResponseError,
)
from .fragments import (
    EventFields,
    EventFieldsQuotes,
    EventFieldsRoute,
    EventFieldsTrigger,
    OrderFields,
    OrderFieldsRoute,
    OrderFieldsTokenIn,
    OrderFieldsTokenOut,
    QuoteFields,
    RejectionFields,
    RouteFields,
    RouteFieldsLegs,
    RouteFieldsLegsTokenIn,
    RouteFieldsLegsTokenOut,
    TokenFields,
)
from .input_types import OrderInput
from .my_order_events import MyOrderEvents, MyOrderEventsMyOrderEvents
from .order import Order, OrderOrder, OrderOrderEvents
from .order_events import OrderEvents, OrderEventsOrderEvents
from .orders import (
    Orders,
    OrdersOrders,
    OrdersOrdersEdges,
    OrdersOrdersEdgesNode,
    OrdersOrdersPageInfo,
)
from .place_limit_order import (
    PlaceLimitOrder,
    PlaceLimitOrderPlaceOrderOrderPlaced,
    PlaceLimitOrderPlaceOrderOrderPlacedOrder,
    PlaceLimitOrderPlaceOrderOrderRejected,
)
from .place_market_order import (
    PlaceMarketOrder,
    PlaceMarketOrderPlaceOrderOrderPlaced,
    PlaceMarketOrderPlaceOrderOrderPlacedOrder,
    PlaceMarketOrderPlaceOrderOrderRejected,
)
from .place_order import (
    PlaceOrder,
    PlaceOrderPlaceOrderOrderPlaced,
    PlaceOrderPlaceOrderOrderPlacedOrder,
    PlaceOrderPlaceOrderOrderRejected,
)
from .place_orders import (
    PlaceOrders,
    PlaceOrdersPlaceOrdersOrderPlaced,
    PlaceOrdersPlaceOrdersOrderPlacedOrder,
    PlaceOrdersPlaceOrdersOrderRejected,
)
from .place_sniper_order import (
    PlaceSniperOrder,
    PlaceSniperOrderPlaceOrderOrderPlaced,
    PlaceSniperOrderPlaceOrderOrderPlacedOrder,
    PlaceSniperOrderPlaceOrderOrderRejected,
)
from .place_stop_loss_order import (
    PlaceStopLossOrder,
    PlaceStopLossOrderPlaceOrderOrderPlaced,
    PlaceStopLossOrderPlaceOrderOrderPlacedOrder,
    PlaceStopLossOrderPlaceOrderOrderRejected,
)
from .place_take_profit_order import (
    PlaceTakeProfitOrder,
    PlaceTakeProfitOrderPlaceOrderOrderPlaced,
    PlaceTakeProfitOrderPlaceOrderOrderPlacedOrder,
    PlaceTakeProfitOrderPlaceOrderOrderRejected,
)
from .place_trailing_stop_order import (
    PlaceTrailingStopOrder,
    PlaceTrailingStopOrderPlaceOrderOrderPlaced,
    PlaceTrailingStopOrderPlaceOrderOrderPlacedOrder,
    PlaceTrailingStopOrderPlaceOrderOrderRejected,
)
from .quote import (
    Quote,
    QuoteQuoteQuoteRejected,
    QuoteQuoteRouteQuote,
    QuoteQuoteRouteQuoteQuotes,
    QuoteQuoteRouteQuoteRoute,
)
from .tokens import Tokens, TokensTokens
from .venues import Venues, VenuesVenues

__all__ = [
    "AsyncBaseClient",
    "BaseModel",
    "CancelOrder",
    "CancelOrderCancelOrderCancelRejected",
    "CancelOrderCancelOrderOrderCancelled",
    "CancelOrderCancelOrderOrderCancelledOrder",
    "EternaClient",
    "EventFields",
    "EventFieldsQuotes",
    "EventFieldsRoute",
    "EventFieldsTrigger",
    "FailureKind",
    "GraphQLClientError",
    "GraphQLClientGraphQLError",
    "GraphQLClientGraphQLMultiError",
    "GraphQLClientHttpError",
    "GraphQLClientInvalidResponseError",
    "MyOrderEvents",
    "MyOrderEventsMyOrderEvents",
    "Order",
    "OrderEvents",
    "OrderEventsOrderEvents",
    "OrderFields",
    "OrderFieldsRoute",
    "OrderFieldsTokenIn",
    "OrderFieldsTokenOut",
    "OrderInput",
    "OrderOrder",
    "OrderOrderEvents",
    "OrderStatus",
    "OrderType",
    "Orders",
    "OrdersOrders",
    "OrdersOrdersEdges",
    "OrdersOrdersEdgesNode",
    "OrdersOrdersPageInfo",
    "PlaceLimitOrder",
    "PlaceLimitOrderPlaceOrderOrderPlaced",
    "PlaceLimitOrderPlaceOrderOrderPlacedOrder",
    "PlaceLimitOrderPlaceOrderOrderRejected",
    "PlaceMarketOrder",
    "PlaceMarketOrderPlaceOrderOrderPlaced",
    "PlaceMarketOrderPlaceOrderOrderPlacedOrder",
    "PlaceMarketOrderPlaceOrderOrderRejected",
    "PlaceOrder",
    "PlaceOrderPlaceOrderOrderPlaced",
    "PlaceOrderPlaceOrderOrderPlacedOrder",
    "PlaceOrderPlaceOrderOrderRejected",
    "PlaceOrders",
    "PlaceOrdersPlaceOrdersOrderPlaced",
    "PlaceOrdersPlaceOrdersOrderPlacedOrder",
    "PlaceOrdersPlaceOrdersOrderRejected",
    "PlaceSniperOrder",
    "PlaceSniperOrderPlaceOrderOrderPlaced",
    "PlaceSniperOrderPlaceOrderOrderPlacedOrder",
    "PlaceSniperOrderPlaceOrderOrderRejected",
    "PlaceStopLossOrder",
    "PlaceStopLossOrderPlaceOrderOrderPlaced",
    "PlaceStopLossOrderPlaceOrderOrderPlacedOrder",
    "PlaceStopLossOrderPlaceOrderOrderRejected",
    "PlaceTakeProfitOrder",
    "PlaceTakeProfitOrderPlaceOrderOrderPlaced",
    "PlaceTakeProfitOrderPlaceOrderOrderPlacedOrder",
    "PlaceTakeProfitOrderPlaceOrderOrderRejected",
    "PlaceTrailingStopOrder",
    "PlaceTrailingStopOrderPlaceOrderOrderPlaced",
    "PlaceTrailingStopOrderPlaceOrderOrderPlacedOrder",
    "PlaceTrailingStopOrderPlaceOrderOrderRejected",
    "Quote",
    "QuoteFields",
    "QuoteQuoteQuoteRejected",
    "QuoteQuoteRouteQuote",
    "QuoteQuoteRouteQuoteQuotes",
    "QuoteQuoteRouteQuoteRoute",
    "RejectionCode",
    "RejectionFields",
    "RouteFields",
    "RouteFieldsLegs",
    "RouteFieldsLegsTokenIn",
    "RouteFieldsLegsTokenOut",
    "TokenFields",
    "Tokens",
    "TokensTokens",
    "Upload",
    "Venues",
    "VenuesVenues",
]

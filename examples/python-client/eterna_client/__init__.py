from .admin_order import AdminOrder, AdminOrderAdminOrder
from .async_base_client import AsyncBaseClient
from .audit_events import AuditEvents, AuditEventsAuditEvents
from .base_model import BaseModel, Upload
from .cancel_order import (
    CancelOrder,
    CancelOrderCancelOrderCancelRejected,
    CancelOrderCancelOrderOrderCancelled,
    CancelOrderCancelOrderOrderCancelledOrder,
)
from .cancel_order_group import (
    CancelOrderGroup,
    CancelOrderGroupCancelOrderGroupCancelRejected,
    CancelOrderGroupCancelOrderGroupOrderGroupCancelled,
    CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroup,
    CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroupOrders,
)
from .cancel_user_orders import CancelUserOrders, CancelUserOrdersCancelUserOrders
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
    EventFieldsFill,
    EventFieldsQuotes,
    EventFieldsRoute,
    EventFieldsTrigger,
    GroupFields,
    GroupFieldsOrders,
    GroupFieldsOrdersTokenIn,
    GroupFieldsOrdersTokenOut,
    OrderFields,
    OrderFieldsFills,
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
from .input_types import OrderGroupInput, OrderInput
from .my_order_events import MyOrderEvents, MyOrderEventsMyOrderEvents
from .order import Order, OrderOrder, OrderOrderEvents
from .order_audit import OrderAudit, OrderAuditOrderAudit
from .order_events import OrderEvents, OrderEventsOrderEvents
from .order_group import (
    OrderGroup,
    OrderGroupOrderGroup,
    OrderGroupOrderGroupOrders,
    OrderGroupOrderGroupOrdersEvents,
    OrderGroupOrderGroupOrdersEventsTrigger,
)
from .orders import (
    Orders,
    OrdersOrders,
    OrdersOrdersEdges,
    OrdersOrdersEdgesNode,
    OrdersOrdersPageInfo,
)
from .pause_trading import PauseTrading, PauseTradingPauseTrading
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
from .place_order_group import (
    PlaceOrderGroup,
    PlaceOrderGroupPlaceOrderGroupOrderGroupPlaced,
    PlaceOrderGroupPlaceOrderGroupOrderGroupPlacedGroup,
    PlaceOrderGroupPlaceOrderGroupOrderRejected,
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
from .place_twap_order import (
    PlaceTwapOrder,
    PlaceTwapOrderPlaceOrderOrderPlaced,
    PlaceTwapOrderPlaceOrderOrderPlacedOrder,
    PlaceTwapOrderPlaceOrderOrderPlacedOrderTwap,
    PlaceTwapOrderPlaceOrderOrderRejected,
)
from .quote import (
    Quote,
    QuoteQuoteQuoteRejected,
    QuoteQuoteRouteQuote,
    QuoteQuoteRouteQuoteQuotes,
    QuoteQuoteRouteQuoteRoute,
)
from .resume_trading import ResumeTrading, ResumeTradingResumeTrading
from .tokens import Tokens, TokensTokens
from .trading_pauses import TradingPauses, TradingPausesTradingPauses
from .twap_progress import (
    TwapProgress,
    TwapProgressOrder,
    TwapProgressOrderChildren,
    TwapProgressOrderProgress,
    TwapProgressOrderTwap,
)
from .venues import Venues, VenuesVenues

__all__ = [
    "AdminOrder",
    "AdminOrderAdminOrder",
    "AsyncBaseClient",
    "AuditEvents",
    "AuditEventsAuditEvents",
    "BaseModel",
    "CancelOrder",
    "CancelOrderCancelOrderCancelRejected",
    "CancelOrderCancelOrderOrderCancelled",
    "CancelOrderCancelOrderOrderCancelledOrder",
    "CancelOrderGroup",
    "CancelOrderGroupCancelOrderGroupCancelRejected",
    "CancelOrderGroupCancelOrderGroupOrderGroupCancelled",
    "CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroup",
    "CancelOrderGroupCancelOrderGroupOrderGroupCancelledGroupOrders",
    "CancelUserOrders",
    "CancelUserOrdersCancelUserOrders",
    "EternaClient",
    "EventFields",
    "EventFieldsFill",
    "EventFieldsQuotes",
    "EventFieldsRoute",
    "EventFieldsTrigger",
    "FailureKind",
    "GraphQLClientError",
    "GraphQLClientGraphQLError",
    "GraphQLClientGraphQLMultiError",
    "GraphQLClientHttpError",
    "GraphQLClientInvalidResponseError",
    "GroupFields",
    "GroupFieldsOrders",
    "GroupFieldsOrdersTokenIn",
    "GroupFieldsOrdersTokenOut",
    "MyOrderEvents",
    "MyOrderEventsMyOrderEvents",
    "Order",
    "OrderAudit",
    "OrderAuditOrderAudit",
    "OrderEvents",
    "OrderEventsOrderEvents",
    "OrderFields",
    "OrderFieldsFills",
    "OrderFieldsRoute",
    "OrderFieldsTokenIn",
    "OrderFieldsTokenOut",
    "OrderGroup",
    "OrderGroupInput",
    "OrderGroupOrderGroup",
    "OrderGroupOrderGroupOrders",
    "OrderGroupOrderGroupOrdersEvents",
    "OrderGroupOrderGroupOrdersEventsTrigger",
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
    "PauseTrading",
    "PauseTradingPauseTrading",
    "PlaceLimitOrder",
    "PlaceLimitOrderPlaceOrderOrderPlaced",
    "PlaceLimitOrderPlaceOrderOrderPlacedOrder",
    "PlaceLimitOrderPlaceOrderOrderRejected",
    "PlaceMarketOrder",
    "PlaceMarketOrderPlaceOrderOrderPlaced",
    "PlaceMarketOrderPlaceOrderOrderPlacedOrder",
    "PlaceMarketOrderPlaceOrderOrderRejected",
    "PlaceOrder",
    "PlaceOrderGroup",
    "PlaceOrderGroupPlaceOrderGroupOrderGroupPlaced",
    "PlaceOrderGroupPlaceOrderGroupOrderGroupPlacedGroup",
    "PlaceOrderGroupPlaceOrderGroupOrderRejected",
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
    "PlaceTwapOrder",
    "PlaceTwapOrderPlaceOrderOrderPlaced",
    "PlaceTwapOrderPlaceOrderOrderPlacedOrder",
    "PlaceTwapOrderPlaceOrderOrderPlacedOrderTwap",
    "PlaceTwapOrderPlaceOrderOrderRejected",
    "Quote",
    "QuoteFields",
    "QuoteQuoteQuoteRejected",
    "QuoteQuoteRouteQuote",
    "QuoteQuoteRouteQuoteQuotes",
    "QuoteQuoteRouteQuoteRoute",
    "RejectionCode",
    "RejectionFields",
    "ResumeTrading",
    "ResumeTradingResumeTrading",
    "RouteFields",
    "RouteFieldsLegs",
    "RouteFieldsLegsTokenIn",
    "RouteFieldsLegsTokenOut",
    "TokenFields",
    "Tokens",
    "TokensTokens",
    "TradingPauses",
    "TradingPausesTradingPauses",
    "TwapProgress",
    "TwapProgressOrder",
    "TwapProgressOrderChildren",
    "TwapProgressOrderProgress",
    "TwapProgressOrderTwap",
    "Upload",
    "Venues",
    "VenuesVenues",
]

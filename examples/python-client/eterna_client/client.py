from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional, Union

from .admin_order import AdminOrder
from .async_base_client import AsyncBaseClient
from .audit_events import AuditEvents
from .base_model import UNSET, UnsetType
from .cancel_order import CancelOrder
from .cancel_order_group import CancelOrderGroup
from .cancel_user_orders import CancelUserOrders
from .enums import OrderStatus, OrderType
from .input_types import OrderInput
from .my_order_events import MyOrderEvents
from .order import Order
from .order_audit import OrderAudit
from .order_events import OrderEvents
from .order_group import OrderGroup
from .orders import Orders
from .pause_trading import PauseTrading
from .place_limit_order import PlaceLimitOrder
from .place_market_order import PlaceMarketOrder
from .place_order import PlaceOrder
from .place_order_group import PlaceOrderGroup
from .place_orders import PlaceOrders
from .place_sniper_order import PlaceSniperOrder
from .place_stop_loss_order import PlaceStopLossOrder
from .place_take_profit_order import PlaceTakeProfitOrder
from .place_trailing_stop_order import PlaceTrailingStopOrder
from .place_twap_order import PlaceTwapOrder
from .quote import Quote
from .resume_trading import ResumeTrading
from .tokens import Tokens
from .trading_pauses import TradingPauses
from .twap_progress import TwapProgress
from .venues import Venues


def gql(q: str) -> str:
    return q


class EternaClient(AsyncBaseClient):
    async def pause_trading(
        self, pair: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> PauseTrading:
        query = gql("""
            mutation PauseTrading($pair: String) {
              pauseTrading(pair: $pair) {
                key
                label
              }
            }
            """)
        variables: dict[str, object] = {"pair": pair}
        response = await self.execute(
            query=query, operation_name="PauseTrading", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PauseTrading.model_validate(data)

    async def resume_trading(
        self, pair: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> ResumeTrading:
        query = gql("""
            mutation ResumeTrading($pair: String) {
              resumeTrading(pair: $pair) {
                key
                label
              }
            }
            """)
        variables: dict[str, object] = {"pair": pair}
        response = await self.execute(
            query=query, operation_name="ResumeTrading", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ResumeTrading.model_validate(data)

    async def cancel_user_orders(self, user_id: str, **kwargs: Any) -> CancelUserOrders:
        query = gql("""
            mutation CancelUserOrders($userId: String!) {
              cancelUserOrders(userId: $userId) {
                id
                status
              }
            }
            """)
        variables: dict[str, object] = {"userId": user_id}
        response = await self.execute(
            query=query,
            operation_name="CancelUserOrders",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return CancelUserOrders.model_validate(data)

    async def trading_pauses(self, **kwargs: Any) -> TradingPauses:
        query = gql("""
            query TradingPauses {
              tradingPauses {
                key
                label
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="TradingPauses", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return TradingPauses.model_validate(data)

    async def admin_order(self, id: str, **kwargs: Any) -> AdminOrder:
        query = gql("""
            query AdminOrder($id: ID!) {
              adminOrder(id: $id) {
                id
                status
                createdAt
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="AdminOrder", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return AdminOrder.model_validate(data)

    async def audit_events(
        self,
        actor: Union[Optional[str], UnsetType] = UNSET,
        subject: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> AuditEvents:
        query = gql("""
            query AuditEvents($actor: String, $subject: String) {
              auditEvents(limit: 50, actor: $actor, subject: $subject) {
                at
                actor
                action
                subject
                clientAddress
                userAgent
                detail
              }
            }
            """)
        variables: dict[str, object] = {"actor": actor, "subject": subject}
        response = await self.execute(
            query=query, operation_name="AuditEvents", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return AuditEvents.model_validate(data)

    async def cancel_order(self, id: str, **kwargs: Any) -> CancelOrder:
        query = gql("""
            mutation CancelOrder($id: ID!) {
              cancelOrder(id: $id) {
                __typename
                ... on OrderCancelled {
                  order {
                    id
                    status
                    updatedAt
                  }
                }
                ... on CancelRejected {
                  code
                  message
                  retryAfterSeconds
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="CancelOrder", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CancelOrder.model_validate(data)

    async def cancel_order_group(self, id: str, **kwargs: Any) -> CancelOrderGroup:
        query = gql("""
            mutation CancelOrderGroup($id: ID!) {
              cancelOrderGroup(id: $id) {
                __typename
                ... on OrderGroupCancelled {
                  group {
                    id
                    orders {
                      id
                      status
                      updatedAt
                    }
                  }
                }
                ... on CancelRejected {
                  code
                  message
                  retryAfterSeconds
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="CancelOrderGroup",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return CancelOrderGroup.model_validate(data)

    async def my_order_events(self, **kwargs: Any) -> AsyncIterator[MyOrderEvents]:
        query = gql("""
            subscription MyOrderEvents {
              myOrderEvents {
                ...EventFields
              }
            }

            fragment EventFields on OrderEvent {
              orderId
              seq
              status
              at
              attempt
              message
              quotes {
                ...QuoteFields
              }
              route {
                ...RouteFields
              }
              txSignature
              amountOut
              executedPrice
              error
              trigger {
                kind
                price
                triggerPrice
                bestPrice
                limitPrice
                pool
                venue
              }
              cancelledBySibling
              fill {
                amountIn
                amountOut
                price
              }
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
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {}
        async for data in self.execute_ws(
            query=query, operation_name="MyOrderEvents", variables=variables, **kwargs
        ):
            yield MyOrderEvents.model_validate(data)

    async def order(self, id: str, **kwargs: Any) -> Order:
        query = gql("""
            query Order($id: ID!) {
              order(id: $id) {
                ...OrderFields
                events {
                  ...EventFields
                }
              }
            }

            fragment EventFields on OrderEvent {
              orderId
              seq
              status
              at
              attempt
              message
              quotes {
                ...QuoteFields
              }
              route {
                ...RouteFields
              }
              txSignature
              amountOut
              executedPrice
              error
              trigger {
                kind
                price
                triggerPrice
                bestPrice
                limitPrice
                pool
                venue
              }
              cancelledBySibling
              fill {
                amountIn
                amountOut
                price
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
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
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Order", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Order.model_validate(data)

    async def order_audit(self, id: str, **kwargs: Any) -> OrderAudit:
        query = gql("""
            query OrderAudit($id: ID!) {
              orderAudit(id: $id) {
                at
                actor
                action
                clientAddress
                userAgent
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="OrderAudit", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return OrderAudit.model_validate(data)

    async def order_events(
        self,
        order_id: str,
        after_seq: Union[Optional[int], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> AsyncIterator[OrderEvents]:
        query = gql("""
            subscription OrderEvents($orderId: ID!, $afterSeq: Int = 0) {
              orderEvents(orderId: $orderId, afterSeq: $afterSeq) {
                ...EventFields
              }
            }

            fragment EventFields on OrderEvent {
              orderId
              seq
              status
              at
              attempt
              message
              quotes {
                ...QuoteFields
              }
              route {
                ...RouteFields
              }
              txSignature
              amountOut
              executedPrice
              error
              trigger {
                kind
                price
                triggerPrice
                bestPrice
                limitPrice
                pool
                venue
              }
              cancelledBySibling
              fill {
                amountIn
                amountOut
                price
              }
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
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {"orderId": order_id, "afterSeq": after_seq}
        async for data in self.execute_ws(
            query=query, operation_name="OrderEvents", variables=variables, **kwargs
        ):
            yield OrderEvents.model_validate(data)

    async def order_group(self, id: str, **kwargs: Any) -> OrderGroup:
        query = gql("""
            query OrderGroup($id: ID!) {
              orderGroup(id: $id) {
                ...GroupFields
                orders {
                  id
                  events {
                    seq
                    status
                    at
                    message
                    trigger {
                      kind
                      price
                      pool
                    }
                    cancelledBySibling
                  }
                }
              }
            }

            fragment GroupFields on OrderGroup {
              id
              orders {
                id
                type
                status
                tokenIn {
                  symbol
                }
                tokenOut {
                  symbol
                }
                amountIn
                limitPrice
                triggerPrice
                trailBps
                bestPrice
                expiresAt
                amountOut
                executedPrice
                groupId
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="OrderGroup", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return OrderGroup.model_validate(data)

    async def orders(
        self,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        status: Union[Optional[OrderStatus], UnsetType] = UNSET,
        type_: Union[Optional[OrderType], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Orders:
        query = gql("""
            query Orders($first: Int = 20, $after: String, $status: OrderStatus, $type: OrderType) {
              orders(first: $first, after: $after, status: $status, type: $type) {
                edges {
                  cursor
                  node {
                    ...OrderFields
                  }
                }
                pageInfo {
                  hasNextPage
                  endCursor
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "status": status,
            "type": type_,
        }
        response = await self.execute(
            query=query, operation_name="Orders", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Orders.model_validate(data)

    async def place_order(self, input: OrderInput, **kwargs: Any) -> PlaceOrder:
        query = gql("""
            mutation PlaceOrder($input: OrderInput!) {
              placeOrder(input: $input) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="PlaceOrder", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PlaceOrder.model_validate(data)

    async def place_market_order(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        max_price_impact_bps: Union[Optional[int], UnsetType] = UNSET,
        client_order_id: Union[Optional[str], UnsetType] = UNSET,
        max_slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceMarketOrder:
        query = gql("""
            mutation PlaceMarketOrder($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $slippageBps: Int, $maxPriceImpactBps: Int, $clientOrderId: String, $maxSlippageBps: Int) {
              placeOrder(
                input: {type: MARKET, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, slippageBps: $slippageBps, maxPriceImpactBps: $maxPriceImpactBps, clientOrderId: $clientOrderId, maxSlippageBps: $maxSlippageBps}
              ) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "slippageBps": slippage_bps,
            "maxPriceImpactBps": max_price_impact_bps,
            "clientOrderId": client_order_id,
            "maxSlippageBps": max_slippage_bps,
        }
        response = await self.execute(
            query=query,
            operation_name="PlaceMarketOrder",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return PlaceMarketOrder.model_validate(data)

    async def place_limit_order(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        limit_price: Decimal,
        expires_at: Union[Optional[datetime], UnsetType] = UNSET,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        client_order_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceLimitOrder:
        query = gql("""
            mutation PlaceLimitOrder($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $limitPrice: Decimal!, $expiresAt: DateTime, $slippageBps: Int, $clientOrderId: String) {
              placeOrder(
                input: {type: LIMIT, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, limitPrice: $limitPrice, expiresAt: $expiresAt, slippageBps: $slippageBps, clientOrderId: $clientOrderId}
              ) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "limitPrice": limit_price,
            "expiresAt": expires_at,
            "slippageBps": slippage_bps,
            "clientOrderId": client_order_id,
        }
        response = await self.execute(
            query=query, operation_name="PlaceLimitOrder", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PlaceLimitOrder.model_validate(data)

    async def place_sniper_order(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        min_liquidity: Union[Optional[Decimal], UnsetType] = UNSET,
        max_price_impact_bps: Union[Optional[int], UnsetType] = UNSET,
        expires_at: Union[Optional[datetime], UnsetType] = UNSET,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        client_order_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceSniperOrder:
        query = gql("""
            mutation PlaceSniperOrder($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $minLiquidity: Decimal, $maxPriceImpactBps: Int, $expiresAt: DateTime, $slippageBps: Int, $clientOrderId: String) {
              placeOrder(
                input: {type: SNIPER, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, minLiquidity: $minLiquidity, maxPriceImpactBps: $maxPriceImpactBps, expiresAt: $expiresAt, slippageBps: $slippageBps, clientOrderId: $clientOrderId}
              ) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "minLiquidity": min_liquidity,
            "maxPriceImpactBps": max_price_impact_bps,
            "expiresAt": expires_at,
            "slippageBps": slippage_bps,
            "clientOrderId": client_order_id,
        }
        response = await self.execute(
            query=query,
            operation_name="PlaceSniperOrder",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return PlaceSniperOrder.model_validate(data)

    async def place_order_group(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        take_profit_price: Decimal,
        stop_loss_price: Decimal,
        expires_at: Union[Optional[datetime], UnsetType] = UNSET,
        take_profit_client_order_id: Union[Optional[str], UnsetType] = UNSET,
        stop_loss_client_order_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceOrderGroup:
        query = gql("""
            mutation PlaceOrderGroup($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $takeProfitPrice: Decimal!, $stopLossPrice: Decimal!, $expiresAt: DateTime, $takeProfitClientOrderId: String, $stopLossClientOrderId: String) {
              placeOrderGroup(
                input: {legs: [{type: TAKE_PROFIT, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, triggerPrice: $takeProfitPrice, expiresAt: $expiresAt, clientOrderId: $takeProfitClientOrderId}, {type: STOP_LOSS, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, triggerPrice: $stopLossPrice, expiresAt: $expiresAt, clientOrderId: $stopLossClientOrderId}]}
              ) {
                __typename
                ... on OrderGroupPlaced {
                  group {
                    ...GroupFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment GroupFields on OrderGroup {
              id
              orders {
                id
                type
                status
                tokenIn {
                  symbol
                }
                tokenOut {
                  symbol
                }
                amountIn
                limitPrice
                triggerPrice
                trailBps
                bestPrice
                expiresAt
                amountOut
                executedPrice
                groupId
              }
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "takeProfitPrice": take_profit_price,
            "stopLossPrice": stop_loss_price,
            "expiresAt": expires_at,
            "takeProfitClientOrderId": take_profit_client_order_id,
            "stopLossClientOrderId": stop_loss_client_order_id,
        }
        response = await self.execute(
            query=query, operation_name="PlaceOrderGroup", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PlaceOrderGroup.model_validate(data)

    async def place_orders(
        self, inputs: list[OrderInput], **kwargs: Any
    ) -> PlaceOrders:
        query = gql("""
            mutation PlaceOrders($inputs: [OrderInput!]!) {
              placeOrders(inputs: $inputs) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {"inputs": inputs}
        response = await self.execute(
            query=query, operation_name="PlaceOrders", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PlaceOrders.model_validate(data)

    async def place_stop_loss_order(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        trigger_price: Decimal,
        limit_price: Union[Optional[Decimal], UnsetType] = UNSET,
        expires_at: Union[Optional[datetime], UnsetType] = UNSET,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        client_order_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceStopLossOrder:
        query = gql("""
            mutation PlaceStopLossOrder($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $triggerPrice: Decimal!, $limitPrice: Decimal, $expiresAt: DateTime, $slippageBps: Int, $clientOrderId: String) {
              placeOrder(
                input: {type: STOP_LOSS, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, triggerPrice: $triggerPrice, limitPrice: $limitPrice, expiresAt: $expiresAt, slippageBps: $slippageBps, clientOrderId: $clientOrderId}
              ) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "triggerPrice": trigger_price,
            "limitPrice": limit_price,
            "expiresAt": expires_at,
            "slippageBps": slippage_bps,
            "clientOrderId": client_order_id,
        }
        response = await self.execute(
            query=query,
            operation_name="PlaceStopLossOrder",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return PlaceStopLossOrder.model_validate(data)

    async def place_take_profit_order(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        trigger_price: Decimal,
        limit_price: Union[Optional[Decimal], UnsetType] = UNSET,
        expires_at: Union[Optional[datetime], UnsetType] = UNSET,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        client_order_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceTakeProfitOrder:
        query = gql("""
            mutation PlaceTakeProfitOrder($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $triggerPrice: Decimal!, $limitPrice: Decimal, $expiresAt: DateTime, $slippageBps: Int, $clientOrderId: String) {
              placeOrder(
                input: {type: TAKE_PROFIT, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, triggerPrice: $triggerPrice, limitPrice: $limitPrice, expiresAt: $expiresAt, slippageBps: $slippageBps, clientOrderId: $clientOrderId}
              ) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "triggerPrice": trigger_price,
            "limitPrice": limit_price,
            "expiresAt": expires_at,
            "slippageBps": slippage_bps,
            "clientOrderId": client_order_id,
        }
        response = await self.execute(
            query=query,
            operation_name="PlaceTakeProfitOrder",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return PlaceTakeProfitOrder.model_validate(data)

    async def place_trailing_stop_order(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        trail_bps: int,
        limit_price: Union[Optional[Decimal], UnsetType] = UNSET,
        expires_at: Union[Optional[datetime], UnsetType] = UNSET,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        client_order_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceTrailingStopOrder:
        query = gql("""
            mutation PlaceTrailingStopOrder($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $trailBps: Int!, $limitPrice: Decimal, $expiresAt: DateTime, $slippageBps: Int, $clientOrderId: String) {
              placeOrder(
                input: {type: TRAILING_STOP, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, trailBps: $trailBps, limitPrice: $limitPrice, expiresAt: $expiresAt, slippageBps: $slippageBps, clientOrderId: $clientOrderId}
              ) {
                __typename
                ... on OrderPlaced {
                  order {
                    ...OrderFields
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment OrderFields on Order {
              id
              clientOrderId
              type
              status
              tokenIn {
                ...TokenFields
              }
              tokenOut {
                ...TokenFields
              }
              amountIn
              slippageBps
              maxSlippageBps
              limitPrice
              triggerPrice
              trailBps
              bestPrice
              expiresAt
              attempts
              route {
                ...RouteFields
              }
              amountOut
              executedPrice
              allOrNone
              minFillAmount
              filledAmountIn
              remainingAmountIn
              fills {
                amountIn
                amountOut
                price
                txSignature
                at
                seq
              }
              txSignature
              failureReason
              createdAt
              updatedAt
              groupId
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }

            fragment RouteFields on Route {
              amountIn
              amountOut
              minAmountOut
              priceImpactBps
              legs {
                venue
                pool
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "trailBps": trail_bps,
            "limitPrice": limit_price,
            "expiresAt": expires_at,
            "slippageBps": slippage_bps,
            "clientOrderId": client_order_id,
        }
        response = await self.execute(
            query=query,
            operation_name="PlaceTrailingStopOrder",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return PlaceTrailingStopOrder.model_validate(data)

    async def place_twap_order(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        slices: int,
        duration_seconds: int,
        jitter_bps: Union[Optional[int], UnsetType] = UNSET,
        limit_price: Union[Optional[Decimal], UnsetType] = UNSET,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        client_order_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> PlaceTwapOrder:
        query = gql("""
            mutation PlaceTwapOrder($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $slices: Int!, $durationSeconds: Int!, $jitterBps: Int, $limitPrice: Decimal, $slippageBps: Int, $clientOrderId: String) {
              placeOrder(
                input: {type: TWAP, tokenIn: $tokenIn, tokenOut: $tokenOut, amountIn: $amountIn, slices: $slices, durationSeconds: $durationSeconds, jitterBps: $jitterBps, limitPrice: $limitPrice, slippageBps: $slippageBps, clientOrderId: $clientOrderId}
              ) {
                __typename
                ... on OrderPlaced {
                  order {
                    id
                    clientOrderId
                    type
                    status
                    amountIn
                    limitPrice
                    twap {
                      slices
                      durationSeconds
                      jitterBps
                      nextSliceIndex
                      nextSliceAt
                    }
                    createdAt
                  }
                }
                ... on OrderRejected {
                  ...RejectionFields
                }
              }
            }

            fragment RejectionFields on OrderRejected {
              code
              message
              field
              retryAfterSeconds
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "slices": slices,
            "durationSeconds": duration_seconds,
            "jitterBps": jitter_bps,
            "limitPrice": limit_price,
            "slippageBps": slippage_bps,
            "clientOrderId": client_order_id,
        }
        response = await self.execute(
            query=query, operation_name="PlaceTwapOrder", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PlaceTwapOrder.model_validate(data)

    async def quote(
        self,
        token_in: str,
        token_out: str,
        amount_in: Decimal,
        slippage_bps: Union[Optional[int], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Quote:
        query = gql("""
            query Quote($tokenIn: String!, $tokenOut: String!, $amountIn: Decimal!, $slippageBps: Int) {
              quote(
                tokenIn: $tokenIn
                tokenOut: $tokenOut
                amountIn: $amountIn
                slippageBps: $slippageBps
              ) {
                __typename
                ... on RouteQuote {
                  route {
                    ...RouteFields
                  }
                  quotes {
                    ...QuoteFields
                  }
                }
                ... on QuoteRejected {
                  code
                  message
                }
              }
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
                tokenIn {
                  ...TokenFields
                }
                tokenOut {
                  ...TokenFields
                }
                amountIn
                amountOut
                fee
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {
            "tokenIn": token_in,
            "tokenOut": token_out,
            "amountIn": amount_in,
            "slippageBps": slippage_bps,
        }
        response = await self.execute(
            query=query, operation_name="Quote", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Quote.model_validate(data)

    async def tokens(self, **kwargs: Any) -> Tokens:
        query = gql("""
            query Tokens {
              tokens {
                ...TokenFields
              }
            }

            fragment TokenFields on Token {
              mint
              symbol
              decimals
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="Tokens", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Tokens.model_validate(data)

    async def twap_progress(self, id: str, **kwargs: Any) -> TwapProgress:
        query = gql("""
            query TwapProgress($id: ID!) {
              order(id: $id) {
                id
                status
                amountIn
                amountOut
                executedPrice
                twap {
                  slices
                  durationSeconds
                  jitterBps
                  nextSliceIndex
                  nextSliceAt
                }
                progress {
                  slices
                  slicesPlaced
                  slicesDone
                  slicesFilled
                  slicesFailed
                  slicesRemaining
                  filledAmountIn
                  amountOut
                  averagePrice
                }
                children {
                  id
                  sliceIndex
                  status
                  amountIn
                  amountOut
                  executedPrice
                  failureReason
                  createdAt
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="TwapProgress", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return TwapProgress.model_validate(data)

    async def venues(self, **kwargs: Any) -> Venues:
        query = gql("""
            query Venues {
              venues {
                name
                kind
                poolCount
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="Venues", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Venues.model_validate(data)

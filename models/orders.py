"""Rows of orders and of their events."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from eterna.domain.failures import FailureKind
from eterna.domain.orders import OrderStatus, OrderType

# Amounts are NUMERIC(28, 12): 16 integer digits and up to 12 decimals (Solana tokens use at
# most 9), inside the 28 significant digits Tortoise quantises with. Prices, whose scale is
# unbounded (a memecoin per SOL, SOL per memecoin), are stored as exact decimal strings.
AMOUNT_DIGITS = 28
AMOUNT_PLACES = 12
PRICE_LENGTH = 64


class OrderModel(Model):
    """One order: its request, latest status, lease and outcome."""

    id = fields.UUIDField(primary_key=True)
    user_id = fields.CharField(max_length=128)
    client_order_id = fields.CharField(max_length=64, null=True)
    type = fields.CharEnumField(OrderType, max_length=16)
    status = fields.CharEnumField(OrderStatus, max_length=16)
    token_in_mint = fields.CharField(max_length=44)
    token_in_symbol = fields.CharField(max_length=16, null=True)
    token_in_decimals = fields.SmallIntField()
    token_out_mint = fields.CharField(max_length=44)
    token_out_symbol = fields.CharField(max_length=16, null=True)
    token_out_decimals = fields.SmallIntField()
    amount_in = fields.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    slippage_bps = fields.IntField()
    limit_price = fields.CharField(max_length=PRICE_LENGTH, null=True)
    min_liquidity = fields.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True
    )
    max_price_impact_bps = fields.IntField(null=True)
    # Stops: the trigger (STOP_LOSS, TAKE_PROFIT), the trail and the best price seen
    # (TRAILING_STOP, raised by the trigger watcher and never lowered).
    trigger_price = fields.CharField(max_length=PRICE_LENGTH, null=True)
    trail_bps = fields.IntField(null=True)
    trail_best = fields.CharField(max_length=PRICE_LENGTH, null=True)
    # When the trigger watcher last fired the order (a fired stop is a market order).
    fired_at = fields.DatetimeField(null=True)
    # The OCO group the order is a leg of (its sibling shares it).
    group_id = fields.UUIDField(null=True)
    # Adaptive slippage: the cap each attempt's chosen tolerance stays within (null: fixed).
    max_slippage_bps = fields.IntField(null=True)
    # Dry run: the order ended with its simulated fill; nothing was sent.
    simulated = fields.BooleanField(default=False)
    # Partial fills of a LIMIT order: the least tokenIn one fill may spend (null: all or
    # none), the tokenIn spent so far (null: nothing), and each fill (eterna.domain.fills).
    min_fill = fields.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True
    )
    filled_in = fields.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True
    )
    fills = fields.JSONField[list[dict[str, object]]](null=True)
    expires_at = fields.DatetimeField(null=True)
    # TWAP: the plan, and where its schedule stands (the next slice to place, when it is
    # due, the slices finished as of its last event). A slice: its parent and index; its id
    # is derived from both (eterna.domain.twap.child_id), so the primary key keeps a slice
    # from being stored twice.
    twap_slices = fields.IntField(null=True)
    twap_duration_seconds = fields.IntField(null=True)
    twap_jitter_bps = fields.IntField(null=True)
    twap_next_slice = fields.IntField(null=True)
    twap_next_at = fields.DatetimeField(null=True)
    twap_reported = fields.IntField(null=True)
    parent_id = fields.UUIDField(null=True)
    slice_index = fields.IntField(null=True)
    attempts = fields.IntField(default=0)
    last_seq = fields.IntField(default=0)
    route = fields.JSONField[dict[str, object]](null=True)
    pending_tx = fields.JSONField[dict[str, object]](null=True)
    amount_out = fields.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True
    )
    executed_price = fields.CharField(max_length=PRICE_LENGTH, null=True)
    tx_signature = fields.CharField(max_length=100, null=True)
    failure_reason = fields.TextField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        """Table and indexes."""

        table = "orders"
        unique_together = (("user_id", "client_order_id"),)
        indexes = (
            ("user_id", "created_at"),
            ("status", "updated_at"),
            ("user_id", "updated_at"),
            # Counts of a user's unfinished orders (the placement caps).
            ("user_id", "status"),
            # A TWAP's children (slices), and the scheduler's look at the working TWAPs.
            ("parent_id", "slice_index"),
            ("type", "status"),
            # The legs of an OCO group.
            ("group_id",),
        )


class OrderEventModel(Model):
    """One step of an order: (order, seq) is unique and seq has no gaps."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[OrderModel] = fields.ForeignKeyField(
        "models.OrderModel", related_name="events", on_delete=fields.CASCADE
    )
    order_id: str
    user_id = fields.CharField(max_length=128)
    seq = fields.IntField()
    status = fields.CharEnumField(OrderStatus, max_length=16)
    at = fields.DatetimeField()
    attempt = fields.IntField()
    message = fields.TextField()
    data = fields.JSONField[dict[str, object]](default=dict)
    # What the attempt failed on (a retry, a failure, a rest after failing on price).
    failure = fields.CharEnumField(FailureKind, max_length=32, null=True)

    class Meta:
        """Table and uniqueness."""

        table = "order_events"
        unique_together = (("order", "seq"),)

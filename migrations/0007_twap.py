from tortoise import migrations
from tortoise.migrations import operations as ops
from eterna.domain.status import OrderType
from tortoise import fields
from tortoise.indexes import Index


class AlterDescription(ops.AlterField):
    """Alter a field's description only: the migration state changes, the database does not.

    The type's description lists its members, so TWAP alters it; a real AlterField rebuilds
    the table on SQLite and drops its unique constraints on the way (see 0004_stop_orders).
    """

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [("models", "0006_order_groups")]

    initial = False

    operations = [
        AlterDescription(
            model_name="OrderModel",
            name="type",
            field=fields.CharEnumField(
                description="MARKET: MARKET\nLIMIT: LIMIT\nSNIPER: SNIPER\nSTOP_LOSS: STOP_LOSS\nTAKE_PROFIT: TAKE_PROFIT\nTRAILING_STOP: TRAILING_STOP\nTWAP: TWAP",
                enum_type=OrderType,
                max_length=16,
            ),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="parent_id",
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="slice_index",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="twap_duration_seconds",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="twap_jitter_bps",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="twap_next_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="twap_next_slice",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="twap_reported",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="OrderModel",
            name="twap_slices",
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name="OrderModel",
            index=Index(fields=["parent_id", "slice_index"]),
        ),
        ops.AddIndex(
            model_name="OrderModel",
            index=Index(fields=["type", "status"]),
        ),
    ]

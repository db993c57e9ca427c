from tortoise import migrations
from tortoise.migrations import operations as ops
from eterna.domain.failures import FailureKind
from eterna.domain.status import OrderType
from tortoise import fields

class AlterDescription(ops.AlterField):
    """Alter a field's description only: the migration state changes, the database does not.

    An enum field's description lists its members, so a new member alters it. A real
    AlterField rebuilds the table on SQLite and drops its unique constraints on the way
    (the (user_id, client_order_id) key among them); a description is no part of the schema.
    """

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0003_event_failure_kind')]

    initial = False

    operations = [
        AlterDescription(
            model_name='OrderEventModel',
            name='failure',
            field=fields.CharEnumField(null=True, description='SLIPPAGE: SLIPPAGE\nINSUFFICIENT_LIQUIDITY: INSUFFICIENT_LIQUIDITY\nBLOCKHASH_EXPIRED: BLOCKHASH_EXPIRED\nVENUE_UNAVAILABLE: VENUE_UNAVAILABLE\nNO_ROUTE: NO_ROUTE\nTRANSACTION_FAILED: TRANSACTION_FAILED\nBELOW_LIMIT_PRICE: BELOW_LIMIT_PRICE\nINTERNAL: INTERNAL', enum_type=FailureKind, max_length=32),
        ),
        ops.AddField(
            model_name='OrderModel',
            name='fired_at',
            field=fields.DatetimeField(null=True),
        ),
        AlterDescription(
            model_name='OrderModel',
            name='type',
            field=fields.CharEnumField(description='MARKET: MARKET\nLIMIT: LIMIT\nSNIPER: SNIPER\nSTOP_LOSS: STOP_LOSS\nTAKE_PROFIT: TAKE_PROFIT\nTRAILING_STOP: TRAILING_STOP', enum_type=OrderType, max_length=16),
        ),
        ops.AddField(
            model_name='OrderModel',
            name='trail_best',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='OrderModel',
            name='trail_bps',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='OrderModel',
            name='trigger_price',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]

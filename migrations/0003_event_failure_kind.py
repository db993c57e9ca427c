from tortoise import migrations
from tortoise.migrations import operations as ops
from eterna.domain.failures import FailureKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_open_orders_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OrderEventModel',
            name='failure',
            field=fields.CharEnumField(null=True, description='SLIPPAGE: SLIPPAGE\nINSUFFICIENT_LIQUIDITY: INSUFFICIENT_LIQUIDITY\nBLOCKHASH_EXPIRED: BLOCKHASH_EXPIRED\nVENUE_UNAVAILABLE: VENUE_UNAVAILABLE\nNO_ROUTE: NO_ROUTE\nTRANSACTION_FAILED: TRANSACTION_FAILED\nINTERNAL: INTERNAL', enum_type=FailureKind, max_length=32),
        ),
    ]

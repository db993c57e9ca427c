from tortoise import migrations
from tortoise.migrations import operations as ops
from eterna.domain.failures import FailureKind
from tortoise import fields

class AlterDescription(ops.AlterField):
    """Alter a field's description only: the migration state changes, the database does not.

    As in 0004: an enum field's description lists its members (two new failure kinds); a
    real AlterField would rebuild the table on SQLite for no change of the schema.
    """

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0007_twap')]

    initial = False

    operations = [
        AlterDescription(
            model_name='OrderEventModel',
            name='failure',
            field=fields.CharEnumField(null=True, description='SLIPPAGE: SLIPPAGE\nINSUFFICIENT_LIQUIDITY: INSUFFICIENT_LIQUIDITY\nBLOCKHASH_EXPIRED: BLOCKHASH_EXPIRED\nVENUE_UNAVAILABLE: VENUE_UNAVAILABLE\nNO_ROUTE: NO_ROUTE\nTRANSACTION_FAILED: TRANSACTION_FAILED\nBELOW_LIMIT_PRICE: BELOW_LIMIT_PRICE\nINTERNAL: INTERNAL\nSIMULATION_FAILED: SIMULATION_FAILED\nUNSUPPORTED_TOKEN: UNSUPPORTED_TOKEN', enum_type=FailureKind, max_length=32),
        ),
        ops.AddField(
            model_name='OrderModel',
            name='simulated',
            field=fields.BooleanField(default=False),
        ),
    ]

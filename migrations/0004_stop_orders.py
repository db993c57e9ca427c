from tortoise import migrations
from tortoise.migrations import operations as ops
from eterna.domain.status import OrderType
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_event_failure_kind')]

    initial = False

    operations = [
        ops.AlterField(
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

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_simulated_orders')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OrderModel',
            name='max_slippage_bps',
            field=fields.IntField(null=True),
        ),
    ]

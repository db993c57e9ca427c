from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_twap')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OrderModel',
            name='max_slippage_bps',
            field=fields.IntField(null=True),
        ),
    ]

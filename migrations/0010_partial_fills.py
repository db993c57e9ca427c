from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_max_slippage')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OrderModel',
            name='min_fill',
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=12),
        ),
        ops.AddField(
            model_name='OrderModel',
            name='filled_in',
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=12),
        ),
        ops.AddField(
            model_name='OrderModel',
            name='fills',
            field=fields.JSONField(null=True),
        ),
        # Orders that traded before fills were counted: a confirmed order spent its whole
        # amount, a TWAP what its confirmed slices spent.
        ops.RunSQL(
            [
                "UPDATE orders SET filled_in = amount_in "
                "WHERE status = 'CONFIRMED' AND type <> 'TWAP'",
                "UPDATE orders SET filled_in = (SELECT COALESCE(SUM(c.amount_in), 0) "
                "FROM orders AS c WHERE c.parent_id = orders.id AND c.status = 'CONFIRMED') "
                "WHERE type = 'TWAP'",
            ],
            reverse_sql=[],
        ),
    ]

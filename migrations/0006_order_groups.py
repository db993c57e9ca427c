from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_audit_events')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OrderModel',
            name='group_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddIndex(
            model_name='OrderModel',
            index=Index(fields=['group_id']),
        ),
    ]

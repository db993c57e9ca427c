from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_stop_orders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEventModel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=128)),
                ('action', fields.CharField(max_length=40)),
                ('subject', fields.CharField(max_length=128)),
                ('client_address', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=256)),
                ('detail', fields.CharField(default='', max_length=256)),
            ],
            options={'table': 'audit_events', 'app': 'models', 'indexes': [Index(fields=['subject', 'id']), Index(fields=['actor', 'id'])], 'pk_attr': 'id', 'table_description': 'Who placed, cancelled or administered what, when and from where.'},
            bases=['Model'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from eterna.domain.orders import OrderStatus, OrderType
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='OrderModel',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user_id', fields.CharField(max_length=128)),
                ('client_order_id', fields.CharField(null=True, max_length=64)),
                ('type', fields.CharEnumField(description='MARKET: MARKET\nLIMIT: LIMIT\nSNIPER: SNIPER', enum_type=OrderType, max_length=16)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nWAITING: WAITING\nROUTING: ROUTING\nBUILDING: BUILDING\nSUBMITTED: SUBMITTED\nCONFIRMED: CONFIRMED\nFAILED: FAILED\nCANCELLED: CANCELLED\nEXPIRED: EXPIRED', enum_type=OrderStatus, max_length=16)),
                ('token_in_mint', fields.CharField(max_length=44)),
                ('token_in_symbol', fields.CharField(null=True, max_length=16)),
                ('token_in_decimals', fields.SmallIntField()),
                ('token_out_mint', fields.CharField(max_length=44)),
                ('token_out_symbol', fields.CharField(null=True, max_length=16)),
                ('token_out_decimals', fields.SmallIntField()),
                ('amount_in', fields.DecimalField(max_digits=28, decimal_places=12)),
                ('slippage_bps', fields.IntField()),
                ('limit_price', fields.CharField(null=True, max_length=64)),
                ('min_liquidity', fields.DecimalField(null=True, max_digits=28, decimal_places=12)),
                ('max_price_impact_bps', fields.IntField(null=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('last_seq', fields.IntField(default=0)),
                ('route', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('pending_tx', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('amount_out', fields.DecimalField(null=True, max_digits=28, decimal_places=12)),
                ('executed_price', fields.CharField(null=True, max_length=64)),
                ('tx_signature', fields.CharField(null=True, max_length=100)),
                ('failure_reason', fields.TextField(null=True, unique=False)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'orders', 'app': 'models', 'unique_together': (('user_id', 'client_order_id'),), 'indexes': [Index(fields=['user_id', 'created_at']), Index(fields=['status', 'updated_at']), Index(fields=['user_id', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'One order: its request, latest status, lease and outcome.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderEventModel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.OrderModel', source_field='order_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.CharField(max_length=128)),
                ('seq', fields.IntField()),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nWAITING: WAITING\nROUTING: ROUTING\nBUILDING: BUILDING\nSUBMITTED: SUBMITTED\nCONFIRMED: CONFIRMED\nFAILED: FAILED\nCANCELLED: CANCELLED\nEXPIRED: EXPIRED', enum_type=OrderStatus, max_length=16)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempt', fields.IntField()),
                ('message', fields.TextField(unique=False)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'order_events', 'app': 'models', 'unique_together': (('order', 'seq'),), 'pk_attr': 'id', 'table_description': 'One step of an order: (order, seq) is unique and seq has no gaps.'},
            bases=['Model'],
        ),
    ]

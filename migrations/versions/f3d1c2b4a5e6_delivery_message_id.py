"""delivery message id: an email delivery keeps one Message-ID across its attempts

Revision ID: f3d1c2b4a5e6
Revises: wiz7c1d2e3f4a5
Create Date: 2026-12-01 03:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f3d1c2b4a5e6'
down_revision = 'wiz7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('entry_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id_left', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('entry_deliveries', schema=None) as batch_op:
        batch_op.drop_column('message_id_left')

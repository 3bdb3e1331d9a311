"""users.session_version: logout and a new password end sessions server-side

Revision ID: 8c3f5a9e1d27
Revises: 5b1e0c7d2a41
Create Date: 2026-12-02 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '8c3f5a9e1d27'
down_revision = '5b1e0c7d2a41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')

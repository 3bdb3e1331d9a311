"""draft base digest and completion webhook headers (#18)

Revision ID: e18a0c4f9b21
Revises: a9c41e7f3b20
Create Date: 2026-11-30 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e18a0c4f9b21'
down_revision = 'a9c41e7f3b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_digest', sa.String(length=64), nullable=True))
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_headers', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('notify_headers')
    with op.batch_alter_table('job_drafts', schema=None) as batch_op:
        batch_op.drop_column('base_digest')

"""entry warnings: problems that did not stop an entry (characters a report could not draw)

Revision ID: 5b8e0f3c2a71
Revises: 8c3f5a9e1d27
Create Date: 2026-11-30 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b8e0f3c2a71'
down_revision = '8c3f5a9e1d27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('warnings')

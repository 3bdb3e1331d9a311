"""written summary: a template's summary settings, an entry's narrative

Revision ID: c0ffee5a0017
Revises: e18a0c4f9b21
Create Date: 2026-11-30 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0ffee5a0017'
down_revision = 'e18a0c4f9b21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.JSON(), nullable=True))
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('narrative', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('narrative')
    with op.batch_alter_table('report_templates', schema=None) as batch_op:
        batch_op.drop_column('summary')

"""error notices: who a job tells when a run ends with errors; once-only state per run

Revision ID: a9c41e7f3b20
Revises: 5b8e0f3c2a71
Create Date: 2026-11-30 09:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a9c41e7f3b20'
down_revision = '5b8e0f3c2a71'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('error_notice', sa.String(length=16), nullable=False, server_default='owner')
        )
        batch_op.add_column(
            sa.Column('error_notice_to', sa.Text(), nullable=False, server_default='')
        )
        batch_op.create_foreign_key(
            'fk_jobs_owner_id_users', 'users', ['owner_id'], ['id'], ondelete='SET NULL'
        )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_notice_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('error_notice_error', sa.Text(), nullable=True))
        batch_op.create_index('ix_runs_error_notice_status', ['error_notice_status'], unique=False)


def downgrade():
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_error_notice_status')
        batch_op.drop_column('error_notice_error')
        batch_op.drop_column('error_notice_status')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_constraint('fk_jobs_owner_id_users', type_='foreignkey')
        batch_op.drop_column('error_notice_to')
        batch_op.drop_column('error_notice')
        batch_op.drop_column('owner_id')

"""idempotency keys live on the run: claimed by the run's own insert

The unique constraint uq_runs_job_id_idempotency_key (core model) now does the work; the
per-token idempotency_records table is gone. Keys recorded there are copied onto their runs
(the first per job wins) so a retry across the upgrade still finds its run.

Revision ID: 5b1e0c7d2a41
Revises: 139d225e386a
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '5b1e0c7d2a41'
down_revision = '139d225e386a'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    records = conn.execute(sa.text(
        "SELECT r.run_id, r.key, r.request_hash, runs.job_id FROM idempotency_records r "
        "JOIN runs ON runs.id = r.run_id WHERE runs.idempotency_key IS NULL ORDER BY r.id"
    )).all()
    seen = set()
    for run_id, key, request_hash, job_id in records:
        if (job_id, key) in seen:
            continue
        seen.add((job_id, key))
        conn.execute(
            sa.text("UPDATE runs SET idempotency_key = :key, request_hash = :hash WHERE id = :id"),
            {"key": key, "hash": request_hash, "id": run_id},
        )
    op.drop_table('idempotency_records')


def downgrade():
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_idempotency_records_run_id_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['personal_access_tokens.id'], name=op.f('fk_idempotency_records_token_id_personal_access_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('token_id', 'key', name=op.f('uq_idempotency_records_token_id_key'))
    )

"""ids of drafts and artifacts are never handed out twice on SQLite

Without AUTOINCREMENT SQLite gives a new row the largest id in use plus one, so deleting the
newest row frees its id. A discarded draft's id then went to the next draft (of any user or
workspace): its stale "Continue editing" link opened another draft, and its dry-run PDFs,
stored under drafts/<id>/, were served as the new draft's. An artifact's id keys its cached
thumbnail (thumbnails/<id>.png), so deleting a job and generating again showed the deleted
artifact's first page. PostgreSQL's sequences never reuse an id: nothing to do there.

Both tables are leaves (no foreign key points at them), so recreating them in batch mode
with foreign keys on cascades nothing.

Revision ID: wiz7c1d2e3f4a5
Revises: c0ffee5a0017
Create Date: 2026-11-30 13:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'wiz7c1d2e3f4a5'
down_revision = 'c0ffee5a0017'
branch_labels = None
depends_on = None

TABLES = ('job_drafts', 'artifacts')


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
        ):
            pass


def upgrade():
    _recreate(True)


def downgrade():
    _recreate(False)

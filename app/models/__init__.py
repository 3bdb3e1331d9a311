"""All models, imported so Alembic and the app see every table."""

from app.models.files import TemporaryFile
from app.models.job import Job, JobDraft, ScheduleMiss
from app.models.resources import Asset, Connection, DataSource, ReportTemplate
from app.models.run import Artifact, Entry, EntryDelivery, Run
from app.models.token import PersonalAccessToken
from app.models.workspace import Membership, Role, User, Workspace

__all__ = [
    "Artifact",
    "Asset",
    "Connection",
    "DataSource",
    "Entry",
    "EntryDelivery",
    "Job",
    "JobDraft",
    "Membership",
    "PersonalAccessToken",
    "ReportTemplate",
    "Role",
    "TemporaryFile",
    "Run",
    "ScheduleMiss",
    "User",
    "Workspace",
]

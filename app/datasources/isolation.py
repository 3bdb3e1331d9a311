"""Which databases a workspace's SQL connection may open: never Herald's own.

A workspace admin types a connection URL; Herald opens it with its own file-system rights and
network position. So the URL is checked twice — when the connection is saved and again right
before every query (files and DNS change in between):

- SQLite: only files inside the SQLite data directory (HERALD_SQLITE_DIR), after resolving
  symlinks and `..` (realpath). No URI filenames (`file:`), no `?` options: the file is then
  opened through a URI Herald builds itself, read-only. Herald's own database file (and its
  -wal/-shm/-journal companions) is refused even when it lies inside that directory.
- PostgreSQL: not the database Herald itself uses (same database name on the same server,
  whatever the port or host alias), and only harmless libpq options (no `host=`/`dbname=`
  overrides in the query string).

Messages never name a server path: they may be shown to anyone who can edit a data source.
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from pathlib import Path

from sqlalchemy.engine import URL, make_url

OUTSIDE_DATA_DIR = (
    "a SQLite database must be a file in Herald's SQLite data directory (HERALD_SQLITE_DIR): "
    "give its name, e.g. sqlite:///sales.db"
)
OWN_DATABASE = "this is Herald's own database; connect to a database that holds your data"
SQLITE_OPTIONS = "a SQLite URL takes no options after '?' and no 'file:' URI"
# libpq settings that cannot redirect the connection or read server files.
POSTGRES_OPTIONS = {"sslmode", "connect_timeout", "application_name"}
POSTGRES_PORT = 5432


class DatabaseRefused(ValueError):
    """A connection URL that would reach a database a workspace may not read; safe to show."""


def checked_url(url: URL, *, sqlite_dir: Path, herald_url: str) -> URL:
    """`url` made safe to open, or DatabaseRefused.

    SQLite comes back as a read-only URI to the resolved file (`file:<realpath>?mode=ro`,
    RFC 8089 path percent-encoded as SQLite's URI filenames require); an in-memory database is
    left alone. PostgreSQL comes back unchanged. Other backends are the caller's concern."""
    backend = url.get_backend_name()
    own = make_url(herald_url)
    if backend == "sqlite":
        path = sqlite_file(url, sqlite_dir)
        if path is None:
            return url
        if own.get_backend_name() == "sqlite" and _is_sqlite_file_of(path, own):
            raise DatabaseRefused(OWN_DATABASE)
        uri = "file:" + urllib.parse.quote(str(path)) + "?mode=ro"
        return url.set(database=uri, query={"uri": "true"})
    if backend == "postgresql":
        unknown = set(url.query) - POSTGRES_OPTIONS
        if unknown:
            raise DatabaseRefused(
                f"option '{sorted(unknown)[0]}' is not allowed in the URL "
                f"(allowed: {', '.join(sorted(POSTGRES_OPTIONS))})"
            )
        if own.get_backend_name() == "postgresql" and _same_postgres_database(url, own):
            raise DatabaseRefused(OWN_DATABASE)
    return url


def sqlite_file(url: URL, sqlite_dir: Path) -> Path | None:
    """The real path of the file a SQLite URL names (relative names are inside `sqlite_dir`),
    None for an in-memory database; DatabaseRefused when it is outside `sqlite_dir`."""
    database = url.database or ""
    if database in ("", ":memory:"):
        return None
    if url.query or database.lower().startswith("file:") or any(c in database for c in "?#\0"):
        raise DatabaseRefused(SQLITE_OPTIONS)
    root = Path(os.path.realpath(sqlite_dir))
    path = Path(os.path.realpath(root / database))  # an absolute `database` replaces `root`
    if path == root or root not in path.parents:
        raise DatabaseRefused(OUTSIDE_DATA_DIR)
    return path


def _is_sqlite_file_of(path: Path, own: URL) -> bool:
    if not own.database or own.database == ":memory:":
        return False
    own_path = Path(os.path.realpath(own.database))
    companion = path.parent == own_path.parent and path.name.startswith(own_path.name + "-")
    if path == own_path or companion:  # -wal, -shm, -journal
        return True
    try:  # a hard link is another name for the same file
        return os.path.samefile(path, own_path)
    except OSError:
        return False


def _same_postgres_database(url: URL, own: URL) -> bool:
    """Same database name on the same server. The port is ignored on purpose: a pooler or a
    forwarded port in front of the same server must not be a way around the check."""
    name = url.database or url.username
    own_name = own.database or own.username
    if name != own_name:
        return False
    return bool(_server_addresses(url.host) & _server_addresses(own.host))


def _server_addresses(host: str | None) -> set[str]:
    """Addresses a host name stands for; every address of this machine counts as "local"."""
    if not host or host.startswith("/"):
        return {"local"}  # a Unix socket: this machine
    try:
        infos = socket.getaddrinfo(host, POSTGRES_PORT, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return {f"unresolved:{host.lower()}"}
    addresses = {info[4][0] for info in infos}
    if any(_is_this_machine(address) for address in addresses):
        addresses.add("local")
    return addresses


def _is_this_machine(address: str) -> bool:
    """Whether `address` belongs to this machine: only then can a socket be bound to it."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
        return True
    except OSError:
        return False

"""People's browser sessions: checking a password, loading the session's user, ending sessions.

A session (and a remember cookie) holds "<user id>:<session version>" (User.get_id). Ending
the sessions of a person raises the version in the database, so every cookie issued before —
including one copied off the machine — stops working at once, server-side.
"""

from __future__ import annotations

from sqlalchemy import select, update

from app.extensions import db
from app.models import User


def check_password(email: str, password: str) -> User | None:
    """The active user with this email and password, else None (which one was wrong is not
    said: that would tell an attacker which addresses have accounts)."""
    user = db.session.scalars(select(User).filter_by(email=email.strip().lower())).first()
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def session_user(session_id: str) -> User | None:
    """The user a session id names, if that session has not been ended; else None."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # a session from before versions existed, or a forged one
    user = db.session.get(User, int(user_id))
    if user is None or (user.session_version or 0) != int(version):
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session and remember cookie of `user` (logging out ends them everywhere)."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    db.session.commit()

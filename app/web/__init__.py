"""Blueprints for the browser screens."""

from __future__ import annotations

from flask import Flask

from app.delivery.throttle import waiting_text
from app.extensions import login_manager
from app.models import User
from app.runs.outcome import run_outcome
from app.sessions import session_user
from app.web import auth, jobs, links, outbox, resources, review, runs, system, tokens, wizard
from app.web.field_labels import field_label
from app.web.helpers import clip, delivery_label, inject_navigation, unique_flashes
from app.web.outcomes import outcome_label, run_duration
from app.web.timezones import fire_time, mail_date, when


def register_blueprints(app: Flask) -> None:
    """Register the screens' blueprints, their template helpers and the session user loader."""
    for module in (auth, jobs, wizard, runs, review, resources, outbox, links, tokens, system):
        app.register_blueprint(module.bp)
    app.context_processor(inject_navigation)
    app.add_template_filter(clip)
    app.add_template_filter(field_label)
    app.add_template_filter(delivery_label)
    app.add_template_filter(when)
    app.add_template_filter(fire_time)
    app.add_template_filter(mail_date)
    app.add_template_filter(outcome_label)
    app.add_template_filter(run_duration)
    app.add_template_global(unique_flashes)
    app.add_template_global(run_outcome)
    app.add_template_global(waiting_text, name="delivery_waiting")

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        return session_user(session_id)

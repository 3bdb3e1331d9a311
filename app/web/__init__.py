"""Blueprints for the browser screens."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from app.errors import Forbidden, NotFound
from app.extensions import db, login_manager
from app.models import User


def register_blueprints(app: Flask) -> None:
    from app.web import auth, jobs, links, outbox, resources, review, runs, wizard
    from app.web.helpers import inject_navigation

    for module in (auth, jobs, wizard, runs, review, resources, outbox, links):
        app.register_blueprint(module.bp)
    app.context_processor(inject_navigation)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> tuple[str, int]:
        return render_template("error.html", code=404, message=str(exc)), 404

    @app.errorhandler(Forbidden)
    def forbidden(exc: Forbidden) -> tuple[str, int]:
        return render_template("error.html", code=403, message=str(exc)), 403

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_template("error.html", code=400, message=exc.description), 400

    @app.errorhandler(404)
    def page_not_found(_exc: Exception) -> tuple[str, int]:
        return render_template("error.html", code=404, message="page not found"), 404

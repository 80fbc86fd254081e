from flask import Flask

from .routes.branding import branding_bp
from .routes.comprehensive_admin import admin_bp
from .routes.json_sports import sports_bp
from .routes.multitenant_routing import tenant_bp
from .routes.public_leaderboard import leaderboard_bp
from .routes.sportsbook_registration import registration_bp
from .routes.superadmin import superadmin_bp
from .routes.theme_customization import theme_bp


def create_app():
    app = Flask(__name__)
    app.secret_key = "change-me"
    app.register_blueprint(branding_bp, url_prefix="/api/branding")
    app.register_blueprint(leaderboard_bp, url_prefix="/leaderboard")
    app.register_blueprint(sports_bp, url_prefix="/api/sports")
    app.register_blueprint(registration_bp, url_prefix="/register")
    app.register_blueprint(tenant_bp)
    app.register_blueprint(theme_bp, url_prefix="/theme")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(superadmin_bp, url_prefix="/superadmin")
    return app

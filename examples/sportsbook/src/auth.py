from functools import wraps

from flask import abort, session


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if "user_id" not in session:
            abort(401)
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if session.get("role") not in ("admin", "superadmin"):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def superadmin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if session.get("role") != "superadmin":
            abort(403)
        return view(*args, **kwargs)

    return wrapper

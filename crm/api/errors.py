from __future__ import annotations

from flask import jsonify


def api_error(status: int, message: str, **extra):
    body = {"error": {"status": status, "message": str(message), **extra}}
    return jsonify(body), status

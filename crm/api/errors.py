from __future__ import annotations

from flask import jsonify


def api_error(status: int, message: str, **extra):
    body = {"error": {"status": status, "message": str(message), **extra}}
    return jsonify(body), status


class ApiError(Exception):
    """Raised inside an API view; answered as JSON by the blueprint's handler."""

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

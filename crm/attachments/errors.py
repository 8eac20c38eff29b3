from __future__ import annotations


class AttachmentError(ValueError):
    """A file or a request was refused; the message is for the user, nothing was stored."""

    def __init__(self, message: str, status: int = 400, field: str | None = "file"):
        super().__init__(message)
        self.status = status
        self.field = field

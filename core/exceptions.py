"""The one domain error type. Services raise it; one handler for the API and one for the
portal turn it into a response, so every error carries a machine code and a human message."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """`code` is stable and machine readable; `message` tells the user how to fix the problem."""

    status_code = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}

    @property
    def denies_access(self) -> bool:
        """403 or 404: the portal lets its handler render the error page for these, where
        other refusals are shown as a message on the page the user is on."""
        return self.status_code in (403, 404)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFoundError(ApplicationError):
    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__("not_found", message)


class PermissionDeniedError(ApplicationError):
    status_code = 403

    def __init__(self, message: str = "You do not have permission to do this.") -> None:
        super().__init__("permission_denied", message)

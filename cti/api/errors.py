"""API failures: each carries the HTTP status and machine code docs/api.md assigns to it.

Services raise these (or cti.errors.ServiceError / drivers.base.DriverError, which the HTTP
layer maps to 502/503), and the resource renders every one as
``{"error": "one line", "code": "machine_code"}``.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message.splitlines()[0] if message else self.code)

    def to_dict(self) -> dict[str, str]:
        return {"error": str(self), "code": self.code}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class Conflict(ApiError):
    status, code = 409, "conflict"


class SwitchError(ApiError):
    status, code = 502, "switch_error"


class Unavailable(ApiError):
    status, code = 503, "unavailable"

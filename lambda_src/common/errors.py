"""Errors a request can end in, each with its HTTP status; the API turns them into responses in one place."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failure caused by the request (4xx): the message and field errors go back to the caller."""

    status_code = 400

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class InvalidRequest(ApiError):
    """Malformed JSON, wrong shape, or fields that do not validate."""

    status_code = 400


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    """The request is valid but clashes with the current state (e.g. a pipeline still provisioning)."""

    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


def field_error(field: str, problem: str) -> dict[str, str]:
    return {"field": field, "problem": problem}


def invalid(field: str, problem: str, message: str = "invalid request") -> InvalidRequest:
    """A 400 naming one field."""
    return InvalidRequest(message, [field_error(field, problem)])

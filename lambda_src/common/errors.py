"""Errors a request can end in, each with its HTTP status; the API turns them into responses in one place.

AWS errors are translated here too (`from_aws`), so every route maps them the same way.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failure the caller is told about: the message and field errors go back in the body."""

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


class TooManyRequests(ApiError):
    """AWS throttled the call made for this request (after the client's own retries): try again later."""

    status_code = 429


class ServiceUnavailable(ApiError):
    """An AWS service failed, could not be reached, or refused the orchestrator itself (not the request)."""

    status_code = 503


def field_error(field: str, problem: str) -> dict[str, str]:
    return {"field": field, "problem": problem}


def invalid(field: str, problem: str, message: str = "invalid request") -> InvalidRequest:
    """A 400 naming one field."""
    return InvalidRequest(message, [field_error(field, problem)])


# -- AWS errors ------------------------------------------------------------------------------------

# AWS error codes whose meaning for the caller is known; other codes go by their HTTP status.
_AWS_CODES: dict[str, type[ApiError]] = {
    "ValidationException": InvalidRequest,
    "ValidationError": InvalidRequest,
    "InvalidParameterValue": InvalidRequest,
    "InvalidToken": InvalidRequest,
    "InvalidNextToken": InvalidRequest,
    "ResourceLimitExceeded": InvalidRequest,
    "ResourceNotFound": NotFound,
    "ResourceNotFoundException": NotFound,
    "ConflictException": Conflict,
    "ResourceInUse": Conflict,
    "ResourceInUseException": Conflict,
    "Throttling": TooManyRequests,
    "ThrottlingException": TooManyRequests,
    "ThrottledException": TooManyRequests,
    "TooManyRequestsException": TooManyRequests,
    "RequestLimitExceeded": TooManyRequests,
    "ProvisionedThroughputExceededException": TooManyRequests,
    "RequestThrottled": TooManyRequests,
    "SlowDown": TooManyRequests,
}
# 4xx codes that blame the orchestrator's own identity or configuration, not the request.
_NOT_THE_CALLERS = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSNotFoundException",
    }
)


def from_aws(exc: BaseException, service: str) -> ApiError | None:
    """The client-facing error an AWS failure means, or None when `exc` is not an AWS failure.

    Rejections of the request (validation, unknown or busy resources) keep their 4xx meaning;
    throttling is 429; failures of AWS itself, unreachable endpoints, and rejections of the
    orchestrator's own credentials or rights are 503: never a 500 with nothing said.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        code = str(response["Error"].get("Code") or "")
        message = str(response["Error"].get("Message") or "") or code
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return _for_code(code, message, status if isinstance(status, int) else 0, service)
    if _is_botocore_error(exc):
        return ServiceUnavailable(f"{service} could not be reached ({type(exc).__name__}); try again later")
    return None


def _for_code(code: str, message: str, status: int, service: str) -> ApiError:
    kind = _AWS_CODES.get(code)
    if kind is None and code not in _NOT_THE_CALLERS and 400 <= status < 500:
        kind = {404: NotFound, 409: Conflict, 429: TooManyRequests}.get(status, InvalidRequest)
    if kind is None:
        return ServiceUnavailable(f"{service} failed or refused the orchestrator ({code or status}); try again later")
    if kind is TooManyRequests:
        return TooManyRequests(f"{service} is throttling requests ({code}); try again later")
    return kind(message or f"{service} refused the request ({code})")


def _is_botocore_error(exc: BaseException) -> bool:
    """A botocore failure without an AWS answer (timeout, connection error); botocore is loaded by then."""
    import sys

    botocore_exceptions = sys.modules.get("botocore.exceptions")
    return botocore_exceptions is not None and isinstance(exc, botocore_exceptions.BotoCoreError)

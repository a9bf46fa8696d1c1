"""How a command reaches the orchestrator API: a client from the common options, and API errors as exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from mlops_cli.api_commands.render import print_api_error

if TYPE_CHECKING:
    from mlops_cli.api_client import ApiClient

EXIT_FAILED = 1


def connect(api_url: str | None, region: str | None, profile: str | None) -> ApiClient:
    """A signed client for the API: --api-url, --region and --profile, each with its fallback."""
    # Imported here, not at the top: the client loads boto3 and botocore (about 0.15 s), which
    # `mlops --help` and the offline commands have no use for.
    from mlops_cli.api_client import ApiClient

    return ApiClient.connect(api_url, region, profile)


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn an ApiError into its message (plus one line per field error) on stderr and exit 1."""
    from mlops_cli.api_client import ApiError  # lazily, as in connect()

    try:
        yield
    except ApiError as exc:
        print_api_error(exc)
        raise typer.Exit(EXIT_FAILED) from None

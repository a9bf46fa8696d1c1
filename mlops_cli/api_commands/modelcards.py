"""`mlops modelcard create|update|describe|delete|export|list`: SageMaker model cards through the orchestrator API.

Card files are checked offline first, with the request models the API uses, so a bad file never
reaches the API: one `<field>: <problem>` line per error and exit 1 (2 when unreadable or not JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mlops_cli.api_commands.calls import api_errors, connect
from mlops_cli.api_commands.options import ApiUrlOption, JsonOption, ProfileOption, RegionOption, YesOption
from mlops_cli.api_commands.render import print_json, text
from mlops_cli.request_file import EXIT_INVALID, load_or_exit, print_field_errors, print_warnings
from mlops_spec import routes

if TYPE_CHECKING:
    from mlops_spec.errors import FieldError
    from mlops_spec.stack_config import StackConfig

app = typer.Typer(
    name="modelcard",
    help="Create, update, describe, delete, export and list SageMaker model cards through the orchestrator.",
    no_args_is_help=True,
)

CardNameArg = Annotated[str, typer.Argument(help="Model card name, e.g. churn-xgb-card.", show_default=False)]
CardFile = Annotated[
    Path,
    typer.Argument(
        help="The card as JSON (see examples/model_cards/); '-' reads stdin.", show_default=False, metavar="FILE"
    ),
]
VersionOption = Annotated[int | None, typer.Option("--version", help="Card version [default: the latest].", min=1)]


def local_problems(model_name: str, body: Any) -> list[FieldError]:
    """What the API would refuse in `body` as the request model `model_name` of mlops_spec.modelcards (its
    unknown keys are `warning:` lines, as the API ignores them)."""
    from mlops_spec import modelcards

    checked = checked_request(getattr(modelcards, model_name), body)
    print_warnings(checked.warnings)
    return checked.errors


def operation_request(
    operation: str, fields: Any, strict: bool = False, assets_bucket: str | None = None
) -> CheckedCard:
    """A model-card operation of the old solution's form (`pipeline_type` = `operation`, dropped from
    `fields`), as the API's dry run answers it: its normalised request, or the field errors; and the
    unknown keys ignored (errors when `strict`)."""
    from mlops_spec.modelcards import MODEL_CARD_OPERATIONS

    return checked_request(MODEL_CARD_OPERATIONS[operation], fields, strict, assets_bucket)


def assets_bucket_of(config: StackConfig) -> str | None:
    """The orchestrator's assets bucket, known to the stack that hosts the orchestrator (its
    mlops:existingAssetsBucket, else the bucket it creates); None from any other stack."""
    from mlops_spec.naming import OrchestratorNames

    if not config.hosts_orchestrator:
        return None
    return config.existing_assets_bucket or OrchestratorNames(config.account_id, config.region).assets_bucket


def metric_file_problems(request: dict[str, Any], assets_bucket: str | None) -> list[FieldError]:
    """The metric files the API would not read, decided as the API decides it (the bucket only when known;
    whether a file exists and holds metrics only the API can tell)."""
    from mlops_spec.errors import FieldError
    from mlops_spec.metric_files import location_problem

    problems = []
    for index, job in enumerate(request.get("evaluation_details") or []):
        url = job.get("metric_file_s3_url")
        problem = location_problem(url, assets_bucket) if url is not None else None
        if problem is not None:
            problems.append(FieldError(f"evaluation_details[{index}].metric_file_s3_url", problem))
    return problems


@dataclass(frozen=True)
class CheckedCard:
    request: dict[str, Any] | None
    errors: list[FieldError]
    warnings: list[FieldError]


def checked_request(model: Any, body: Any, strict: bool = False, assets_bucket: str | None = None) -> CheckedCard:
    """As the API reads a card request (lambda_src/api/modelcards.py validate): unknown keys, at any depth,
    left out with a warning each unless `strict`; then its metric files' locations (in `assets_bucket`
    when it is known)."""
    # Imported here: the request models load pydantic, which `mlops --help` does without.
    from pydantic import ValidationError

    from mlops_spec.card_keys import without_unknown_keys
    from mlops_spec.errors import FieldError, field_errors

    if not isinstance(body, dict):
        return CheckedCard(None, [FieldError("(body)", "must be a JSON object")], [])
    warnings: list[FieldError] = []
    if not strict:
        body, warnings = without_unknown_keys(model, body)
    try:
        request = dict(model.model_validate(body).plain())
    except ValidationError as exc:
        return CheckedCard(None, field_errors(exc), warnings)
    problems = metric_file_problems(request, assets_bucket)
    return CheckedCard(None if problems else request, problems, warnings)


def _checked_file(path: Path, model_name: str, operation: str, name: str | None = None) -> dict[str, Any]:
    """The file's JSON object once it validates as the API would validate it; exits 1 or 2 otherwise.

    The old solution's form is accepted too (examples/model_cards/): its `pipeline_type` naming this
    operation is dropped, and so is a `name` equal to the NAME argument (the URL names the card)."""
    body = load_or_exit(path)
    if isinstance(body, dict):
        body = _without_operation_keys(body, operation, name)
    if isinstance(body, dict) and name is not None and "name" in body:
        # Never ignored as an unknown key: the file is another card's (the API refuses a name in the body too).
        print_field_errors([_field("name", f"names card {body['name']!r}, not {name!r} (the NAME argument)")])
        raise typer.Exit(EXIT_INVALID)
    problems = local_problems(model_name, body)
    if problems:
        print_field_errors(problems)
        raise typer.Exit(EXIT_INVALID)
    return dict(body)


def _field(field: str, problem: str) -> FieldError:
    from mlops_spec.errors import FieldError

    return FieldError(field, problem)


def _without_operation_keys(body: dict[str, Any], operation: str, name: str | None) -> dict[str, Any]:
    drop = {"pipeline_type"} if body.get("pipeline_type") == operation else set()
    if name is not None and body.get("name") == name:
        drop.add("name")
    return {key: value for key, value in body.items() if key not in drop}


def _call(api_url: str | None, region: str | None, profile: str | None, route: routes.Route, **kwargs: Any) -> Any:
    with api_errors():
        return connect(api_url, region, profile).send(route, **kwargs)


def _show_card(card: dict[str, Any], done: str, as_json: bool) -> None:
    """`model card <name>: <done> (version N, <status>)`, then its content as JSON (or all of it with --json)."""
    if as_json:
        print_json(card)
        return
    console = Console()
    version = f"version {card['version']}, " if card.get("version") is not None else ""
    console.print(
        f"model card [bold]{text(card.get('name', '?'))}[/bold]: {done} ({version}{text(card.get('status'))})"
    )
    if card.get("content"):
        console.print_json(data=card["content"])


@app.command("create")
def create(
    file: CardFile,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Create a model card from a JSON file (name, status, and the card's sections)."""
    body = _checked_file(file, "CreateModelCard", "create_model_card")
    _show_card(_call(api_url, region, profile, routes.CREATE_MODEL_CARD, body=body), "created", as_json)


@app.command("update")
def update(
    name: CardNameArg,
    file: CardFile,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Update a model card's status or sections from a JSON file (the card is named by NAME)."""
    body = _checked_file(file, "UpdateModelCardBody", "update_model_card", name)
    card = _call(api_url, region, profile, routes.UPDATE_MODEL_CARD, body=body, name=name)
    _show_card(card, "updated", as_json)


@app.command("describe")
def describe(
    name: CardNameArg,
    version: VersionOption = None,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Show a model card: its version, status and content."""
    query = {"version": str(version)} if version is not None else None
    card = _call(api_url, region, profile, routes.DESCRIBE_MODEL_CARD, query=query, name=name)
    _show_card(card, "found", as_json)


@app.command("delete")
def delete(
    name: CardNameArg,
    yes: YesOption = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Delete a model card and all its versions."""
    if not yes:
        typer.confirm(f"Delete model card {name} and all its versions?", abort=True)
    answer = _call(api_url, region, profile, routes.DELETE_MODEL_CARD, name=name)
    if as_json:
        print_json(answer)
        return
    Console().print(f"model card [bold]{text(answer.get('name', name))}[/bold]: deleted")


@app.command("export")
def export(
    name: CardNameArg,
    version: VersionOption = None,
    job_name: Annotated[str | None, typer.Option("--job-name", help="Export job name [default: derived].")] = None,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Export a model card to PDF in the orchestrator's assets bucket (a SageMaker export job)."""
    body: dict[str, Any] = {"export_job_name": job_name, "model_card_version": version}
    body = {key: value for key, value in body.items() if value is not None}
    problems = local_problems("ExportModelCardBody", body)
    if problems:
        print_field_errors(problems)
        raise typer.Exit(EXIT_INVALID)
    answer = _call(api_url, region, profile, routes.EXPORT_MODEL_CARD, body=body, name=name)
    if as_json:
        print_json(answer)
        return
    console = Console()
    console.print(f"model card [bold]{text(name)}[/bold]: export {text(answer.get('export_job_name'))} started")
    console.print(f"the PDF lands under {text(answer.get('output_location'))}")


@app.command("list")
def list_cards(
    name_contains: Annotated[
        str | None, typer.Option("--name-contains", help="Only cards whose name has this.")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only cards in this status, e.g. Approved.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many cards (1-100).", min=1)] = None,
    next_token: Annotated[str | None, typer.Option("--next-token", help="Page after an earlier answer.")] = None,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """List model cards, newest first as SageMaker returns them."""
    given = {"name_contains": name_contains, "status": status, "limit": limit, "next_token": next_token}
    query = {key: str(value) for key, value in given.items() if value is not None}
    answer = _call(api_url, region, profile, routes.LIST_MODEL_CARDS, query=query or None)
    if as_json:
        print_json(answer)
        return
    _print_card_table(answer)


def _print_card_table(answer: dict[str, Any]) -> None:
    table = Table("name", "status", "created", "last modified", title="model cards", title_justify="left")
    for card in answer.get("model_cards", []):
        row = (card.get("name"), card.get("status"), card.get("created_at"), card.get("last_modified_at"))
        table.add_row(*(text(value or "") for value in row))
    console = Console()
    console.print(table)
    if answer.get("next_token"):
        console.print(f"more: mlops modelcard list --next-token {text(answer['next_token'])}")

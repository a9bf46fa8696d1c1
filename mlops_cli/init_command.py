"""`mlops init`: write a Pulumi project that runs the installed orchestrator, as `pulumi new` would.

Settings every stack shares (mode, region, accounts, email) are written once, in `Pulumi.yaml`; each
stack file says only which environment it deploys. Everything is checked before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

MAIN = (
    '"""Pulumi program: the MLOps orchestrator, from the installed package."""\n\n'
    "from mlops_cli.program import run\n\nrun()\n"
)
ENVIRONMENTS = ("dev", "staging", "prod")


def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the project (created if missing).")] = Path("."),
    mode: Annotated[str, typer.Option(help="single: one account; multi: dev -> staging -> prod.")] = "single",
    region: Annotated[str, typer.Option(help="AWS region of every resource, e.g. us-east-1.")] = "us-east-1",
    account: Annotated[
        list[str] | None,
        typer.Option(help="Account id: one in single mode; dev=ID, staging=ID and prod=ID in multi mode."),
    ] = None,
    email: Annotated[str | None, typer.Option(help="Notification email (required in multi mode).")] = None,
    name: Annotated[str | None, typer.Option(help="Project name (default: the directory's name).")] = None,
) -> None:
    """Write Pulumi.yaml, __main__.py, requirements.txt and a stack file per environment."""
    from mlops_spec.errors import SpecError

    try:
        files = project_files(directory, mode, region, account or [], email, name)
    except SpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    directory.mkdir(parents=True, exist_ok=True)
    for file_name, text in files.items():
        (directory / file_name).write_text(text)
    typer.echo(f"wrote {', '.join(files)} in {directory}")
    typer.echo(f"next: cd {directory} && mlops plan --stack all, then pulumi up --stack <stack>")


def project_files(
    directory: Path, mode: str, region: str, accounts: list[str], email: str | None, name: str | None
) -> dict[str, str]:
    """File name -> text of the project; SpecError (nothing to write) when a setting is wrong."""
    import yaml

    from mlops_spec.account_guard import ALLOWED_ACCOUNTS_KEY, allowed_accounts_setting
    from mlops_spec.errors import FieldError, SpecError
    from mlops_spec.stack_config import load_stack_config

    if (directory / "Pulumi.yaml").exists():
        raise SpecError("exists", [FieldError(str(directory), "already holds a Pulumi project (Pulumi.yaml)")])
    if mode not in ("single", "multi"):
        raise SpecError("bad option", [FieldError("--mode", "must be single or multi")])
    shared: dict[str, Any] = {"aws:region": region, "mlops:mode": mode, "mlops:accounts": _accounts(mode, accounts)}
    if email:
        shared["mlops:notificationEmail"] = email
    stacks = list(shared["mlops:accounts"])
    for stack in stacks:
        load_stack_config({**shared, "mlops:environment": stack}, stack)  # refuses what `pulumi up` would
    project = {
        "name": name or directory.resolve().name,
        "description": "MLOps pipeline orchestrator for AWS SageMaker",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}},
        "config": {key: {"value": value} for key, value in shared.items()},
    }
    files = {"Pulumi.yaml": yaml.safe_dump(project, sort_keys=False), "__main__.py": MAIN}
    files["requirements.txt"] = _requirement()
    for stack in stacks:
        # The AWS provider refuses credentials of any other account, for every command (destroy and
        # refresh too, which do not run the program and its own account check).
        config = {
            "mlops:environment": stack,
            ALLOWED_ACCOUNTS_KEY: allowed_accounts_setting(shared["mlops:accounts"][stack]),
        }
        files[f"Pulumi.{stack}.yaml"] = yaml.safe_dump({"config": config}, sort_keys=False)
    return files


def _accounts(mode: str, given: list[str]) -> dict[str, str]:
    """`--account ID` (single mode: dev) or `--account ENV=ID` per environment."""
    from mlops_spec.errors import FieldError, SpecError

    accounts = dict(_environment_and_account(item) for item in given)
    needed = ENVIRONMENTS if mode == "multi" else ("dev",)
    if sorted(accounts) != sorted(needed):
        usage = " ".join(f"--account {env}=ID" for env in needed) if mode == "multi" else "--account ID"
        raise SpecError("bad option", [FieldError("--account", f"{mode} mode needs {usage}")])
    return {env: accounts[env] for env in needed}


def _environment_and_account(item: str) -> tuple[str, str]:
    environment, equals, account = item.partition("=")
    return (environment, account) if equals else ("dev", item)


def _requirement() -> str:
    """The installed distribution, pinned, for `pulumi install` to put into the project's virtualenv.

    With its orchestrator extra: the project runs the Pulumi program, which a light install lacks.
    """
    from mlops_cli.version import DISTRIBUTION, package_version

    version = package_version()
    requirement = f"{DISTRIBUTION}[orchestrator]"
    return f"{requirement}=={version}\n" if " " not in version else f"{requirement}\n"

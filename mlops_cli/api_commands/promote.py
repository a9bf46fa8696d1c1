"""`mlops promote ID`: make the shadow of a shadow-tested endpoint its production model.

Asks the orchestrator (POST /pipelines/{id}/promote) for a normal update of the pipeline's request with
its shadow as the production model and no shadow: a new version, its delivery run and approvals.
"""

from __future__ import annotations

import typer

from mlops_cli.api_commands.calls import api_errors, connect
from mlops_cli.api_commands.options import ApiUrlOption, PipelineIdArg, ProfileOption, RegionOption, YesOption
from mlops_cli.api_commands.render import print_new_version


def promote(
    pipeline_id: PipelineIdArg,
    yes: YesOption = False,
    api_url: ApiUrlOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Make the shadow of a shadow-tested endpoint its production model (its model, instance type and
    count) and remove the shadow, through a normal update (its approvals apply as for any update). Only
    a DEPLOYED pipeline with a shadow; compare the variants first with mlops status ID --json."""
    if not yes:
        typer.confirm(f"Make pipeline {pipeline_id}'s shadow its production model?", abort=True)
    with api_errors():
        answer = connect(api_url, region, profile).promote_pipeline(pipeline_id)
    print_new_version(answer, pipeline_id, "the shadow as production")

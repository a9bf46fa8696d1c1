"""The teardown project: where pipeline deletions run, with no 15-minute limit.

Changes when a deletion needs more time or another right. The provisioner function claims a
deletion and starts a build of this project (lambda_src/provisioner/teardown.py); the build runs
the provisioner's own image as the provisioner's own role, because a teardown is the provisioner's
work done elsewhere: the deploy roles already trust that role, and it needs no right the
provisioner lacks. CodeBuild may assume the role for this one project only.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components import policies
from components.base import MlopsComponent
from components.orchestrator.args import OrchestratorArgs, provisioner_image_pull
from components.orchestrator.delivery_access import CODEBUILD, RETRY_BUILD, START_BUILD
from mlops_spec.env_vars import TEARDOWN_VARIABLE_PATTERN

# A teardown destroys up to three target stacks and a delivery stack (SageMaker endpoints take
# minutes each), after waiting up to 19 minutes for a provisioner run's lock on the delivery stack;
# lambda_src/provisioner/teardown.py runs in it.
TEARDOWN_TIMEOUT_MINUTES = 120
TEARDOWN_LOG_RETENTION_DAYS = 90


def teardown_project_arn(args: OrchestratorArgs) -> str:
    return f"arn:{args.partition}:codebuild:{args.region}:{args.account_id}:project/{args.names.teardown_project}"


def teardown_log_group(args: OrchestratorArgs) -> str:
    return f"/aws/codebuild/{args.names.teardown_project}"


def buildspec() -> str:
    """The project's only command; the request comes from the MLOPS_TEARDOWN_* variables of the start."""
    return "\n".join(["version: 0.2", "phases:", "  build:", "    commands:", "      - mlops teardown", ""])


# -- trust and rights ------------------------------------------------------------------------------------
def provisioner_trust(args: OrchestratorArgs) -> str:
    """Lambda runs the provisioner; CodeBuild runs it as this account's teardown project only (CodeBuild
    sets aws:SourceArn to the project's ARN when it assumes a project's service role)."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": CODEBUILD},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": args.account_id},
                "ArnEquals": {"aws:SourceArn": teardown_project_arn(args)},
            },
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def teardown_statements(args: OrchestratorArgs) -> list[policies.Statement]:
    """What the provisioner role needs to start teardowns (in Lambda) and to run them (in CodeBuild)."""
    region, account, project = args.region, args.account_id, teardown_project_arn(args)
    logs = f"arn:{args.partition}:logs:{region}:{account}:log-group:{teardown_log_group(args)}"
    return [
        policies.statement(["codebuild:StartBuild"], [project], sid="StartTeardowns"),
        # A teardown waits for (and stops) the pipeline's previous teardown build.
        policies.statement(["codebuild:BatchGetBuilds", "codebuild:StopBuild"], [project], sid="TeardownBuilds"),
        policies.statement(policies.LOG_WRITE, [logs, f"{logs}:*"], sid="TeardownLogs"),
        *provisioner_image_pull(args, "TeardownImage", "TeardownEcrLogin"),
        *deny_bent_teardowns(args),
    ]


# Parts of a StartBuild request that would make a teardown run other code, as another role, or out of
# sight (CodeBuild's condition keys; one statement each, since the keys of one Null block must all be
# present to match). A timeout override has no condition key: the teardown's own command ends its build.
BENT_START_KEYS = {
    "Source": "codebuild:source",
    "Image": "codebuild:environment.image",
    "PrivilegedMode": "codebuild:environment.privilegedMode",
    "ServiceRole": "codebuild:serviceRole",
    "Logs": "codebuild:logsConfig",
}


def deny_bent_teardowns(args: OrchestratorArgs) -> list[policies.Statement]:
    """A start may say which deletion to run (the MLOPS_TEARDOWN_* variables), nothing else: no source
    or buildspec, image, privileged mode, role or logs of its own, no other variable, and no re-run
    of an earlier teardown's request."""
    project = [teardown_project_arn(args)]
    overrides = [
        policies.statement(
            [*START_BUILD, *RETRY_BUILD],
            project,
            effect="Deny",
            sid=f"DenyTeardown{name}Override",
            condition={"Null": {key: "false"}},
        )
        for name, key in BENT_START_KEYS.items()
    ]
    return [
        *overrides,
        policies.statement(
            START_BUILD,
            project,
            effect="Deny",
            sid="DenyTeardownVariableOverride",
            condition={
                "ForAnyValue:StringNotLike": {
                    "codebuild:environment.environmentVariables.name": [TEARDOWN_VARIABLE_PATTERN]
                }
            },
        ),
        policies.statement(RETRY_BUILD, project, effect="Deny", sid="DenyTeardownRetry"),
    ]


def status_teardown_reads(args: OrchestratorArgs) -> list[policies.Statement]:
    """The sweep fails a deletion whose teardown build ended without finishing it."""
    return [policies.statement(["codebuild:BatchGetBuilds"], [teardown_project_arn(args)], sid="WatchTeardowns")]


# -- the project -----------------------------------------------------------------------------------------
def teardown_project(
    owner: MlopsComponent,
    name: str,
    args: OrchestratorArgs,
    data_key_arn: pulumi.Input[str],
    image_uri: pulumi.Input[str],
    settings: pulumi.Input[dict[str, str]],
    provisioner: aws.lambda_.Function,
) -> aws.codebuild.Project:
    """The teardown CodeBuild project, with the provisioner's image, role and settings."""
    log_group = owner.log_group(
        f"{name}-teardown-logs",
        name=teardown_log_group(args),
        kms_key_id=data_key_arn,
        tags=args.tags,
        retention_in_days=TEARDOWN_LOG_RETENTION_DAYS,
    )
    variables = pulumi.Output.from_input(settings).apply(
        lambda values: [
            aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=key, value=value, type="PLAINTEXT")
            for key, value in sorted(values.items())
        ]
    )
    return aws.codebuild.Project(
        f"{name}-teardown",
        name=args.names.teardown_project,
        description="Deletes MLOps pipelines: stops their runs and builds, destroys their stacks",
        service_role=args.names.role_arn("provisioner", args.partition),
        build_timeout=TEARDOWN_TIMEOUT_MINUTES,
        encryption_key=data_key_arn,
        source=aws.codebuild.ProjectSourceArgs(type="NO_SOURCE", buildspec=buildspec()),
        artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
        environment=aws.codebuild.ProjectEnvironmentArgs(
            compute_type="BUILD_GENERAL1_SMALL",
            image=image_uri,
            type="LINUX_CONTAINER",
            # The image is in the orchestrator's private ECR: pull it with the project's own role.
            image_pull_credentials_type="SERVICE_ROLE",
            environment_variables=variables,
        ),
        logs_config=aws.codebuild.ProjectLogsConfigArgs(
            cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                group_name=log_group.name, status="ENABLED"
            )
        ),
        tags=args.tags,
        # The role and its policy exist (and CodeBuild may assume it) before the project names it.
        opts=owner.child_opts(depends_on=[provisioner, log_group]),
    )

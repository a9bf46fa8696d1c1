"""Who may run and promote delivery pipelines: the shared build and CodePipeline roles, and the denials
that keep every role of the project from bending a deploy build.

Changes when a deploy build, a delivery pipeline or the provisioner's hold on them needs another
permission. Plain functions of the orchestrator's arguments and resolved key ARNs.

One build role per environment, created here and shared by every pipeline's deploy project of that
environment: deploy roles then trust exact role ARNs (mlops_spec.naming.deploy_role_principals), and
the provisioner never creates a role. docs/security.md says why.
"""

from __future__ import annotations

import json

from components import policies
from components.orchestrator.args import (
    EXTERNAL_ID_PARAMETER,
    OrchestratorArgs,
    delivery_pipelines_arn,
    provisioner_image_pull,
    topic_arn,
)
from mlops_spec.naming import (
    DELIVERY_ARTIFACT_FOLDERS,
    DEPLOY_PROJECT_PREFIX,
    PROJECT_ARN_VARIABLE,
    STATE_CONTEXT_KEY,
    deploy_projects_of,
    source_key,
    target_state_prefix,
)
from mlops_spec.partitions import regional_service

# Per-pipeline roles that delivery stacks created before the shared roles existed
# (`mlops-orch-cb-<pipeline>-<env>`, `mlops-orch-cp-<pipeline>`): updating such a stack deletes them,
# which is all the provisioner may do to them. Nothing creates such a role any more.
LEGACY_DELIVERY_ROLES = ("cb-", "cp-")
LEGACY_ROLE_CLEANUP = [
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
]
# What grants rights: creating a role or policy, changing what a role may do or who may assume it.
ROLE_GRANTS = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:UpdateRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:AddUserToGroup",
]

# A delivery stack's pipeline: its lifecycle, and starting, following and stopping its runs.
PIPELINE_LIFECYCLE = [
    "codepipeline:CreatePipeline",
    "codepipeline:UpdatePipeline",
    "codepipeline:DeletePipeline",
    "codepipeline:GetPipeline",
    "codepipeline:GetPipelineState",
    "codepipeline:GetPipelineExecution",
    "codepipeline:ListPipelineExecutions",
    "codepipeline:StartPipelineExecution",
    "codepipeline:StopPipelineExecution",
    "codepipeline:ListTagsForResource",
    "codepipeline:TagResource",
    "codepipeline:UntagResource",
]
# A delivery stack's deploy projects: their lifecycle, and stopping running builds before a delete.
# Never StartBuild: only the pipeline starts deploy builds.
PROJECT_LIFECYCLE = [
    "codebuild:CreateProject",
    "codebuild:UpdateProject",
    "codebuild:DeleteProject",
    "codebuild:BatchGetProjects",
    "codebuild:ListBuildsForProject",
    "codebuild:BatchGetBuilds",
    "codebuild:StopBuild",
]

CODEBUILD = "codebuild.amazonaws.com"
CODEPIPELINE = "codepipeline.amazonaws.com"
# The build actions a request can bend: a buildspec or variables of its own turn a deploy build into
# any command run as a build role, which may assume a deploy role.
START_BUILD = ["codebuild:StartBuild", "codebuild:StartBuildBatch"]
RETRY_BUILD = ["codebuild:RetryBuild", "codebuild:RetryBuildBatch"]
# Variables `mlops deploy` (and the tools it runs) read: what to deploy where, its settings, Pulumi's
# and the AWS SDK's own, the interpreter's, and the build's identity.
DEPLOY_VARIABLES = ["PIPELINE_ID", "TARGET_ENV", "MLOPS_*", "PULUMI_*", "AWS_*", "PYTHON*", "CODEBUILD_*"]


def deploy_projects_arn(args: OrchestratorArgs, env: str | None = None) -> str:
    """Every deploy project of this account, or those of one environment."""
    pattern = deploy_projects_of(env) if env else f"{DEPLOY_PROJECT_PREFIX}*"
    return f"arn:{args.partition}:codebuild:{args.region}:{args.account_id}:project/{pattern}"


def build_role_arns(args: OrchestratorArgs) -> dict[str, str]:
    """Environment -> its deploy builds' role, for each environment of this install."""
    return {env: args.names.role_arn(f"build-{env}", args.partition) for env in sorted(args.environment_accounts)}


def codepipeline_role_arn(args: OrchestratorArgs) -> str:
    return args.names.role_arn("codepipeline", args.partition)


# -- denials every role of the project that touches deploy builds carries ----------------------------
def deny_bent_deploy_builds(args: OrchestratorArgs) -> list[policies.Statement]:
    """No buildspec or deploy variable of the caller's own in a deploy build, and no re-run of one.

    CodeBuild's `codebuild:source.buildspec` key supports only Null (is an override present);
    `codebuild:environment.environmentVariables.name` lists the names a request overrides. RetryBuild
    takes no overrides but repeats a build's: no role of this project needs it. A source override is
    not denied here: CodePipeline itself hands each build its run's artifact, and a build it did not
    start is refused by `mlops deploy` (lambda_src/provisioner/promotion.py).
    """
    projects = [deploy_projects_arn(args)]
    return [
        policies.statement(
            [*START_BUILD, *RETRY_BUILD],
            projects,
            effect="Deny",
            sid="DenyDeployBuildspecOverride",
            condition={"Null": {"codebuild:source.buildspec": "false"}},
        ),
        policies.statement(
            START_BUILD,
            projects,
            effect="Deny",
            sid="DenyDeployVariableOverride",
            condition={"ForAnyValue:StringLike": {"codebuild:environment.environmentVariables.name": DEPLOY_VARIABLES}},
        ),
        policies.statement(RETRY_BUILD, projects, effect="Deny", sid="DenyDeployBuildRetry"),
    ]


# -- trust ---------------------------------------------------------------------------------------------
def _service_trust(service: str, condition: dict[str, dict[str, str]]) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [{**statement, "Condition": condition}]}, sort_keys=True)


def build_role_trust(args: OrchestratorArgs, env: str) -> str:
    """CodeBuild, for this account's deploy projects of `env` only (CodeBuild sets aws:SourceArn to
    the project's ARN when it assumes a project's service role)."""
    return _service_trust(
        CODEBUILD,
        {
            "StringEquals": {"aws:SourceAccount": args.account_id},
            "ArnLike": {"aws:SourceArn": deploy_projects_arn(args, env)},
        },
    )


def codepipeline_role_trust(args: OrchestratorArgs) -> str:
    """CodePipeline, for this account's pipelines only. aws:SourceAccount is the confused-deputy guard
    CodePipeline documents for its service role; it does not document an aws:SourceArn for it."""
    return _service_trust(CODEPIPELINE, {"StringEquals": {"aws:SourceAccount": args.account_id}})


# -- the build roles and the CodePipeline role -----------------------------------------------------------
def _assets(args: OrchestratorArgs, key: str = "") -> str:
    return f"arn:{args.partition}:s3:::{args.assets_bucket_name}{'/' + key if key else ''}"


def _run_artifacts(args: OrchestratorArgs) -> str:
    """The delivery pipelines' run artifacts in the assets bucket (their artifact store)."""
    return _assets(args, f"{DELIVERY_ARTIFACT_FOLDERS}/*")


def build_role_statements(
    args: OrchestratorArgs, env: str, data_key: str, secrets_key: str
) -> list[policies.Statement]:
    """A deploy build of `env`: assume that environment's deploy role and no other, keep Pulumi state,
    read its run's source artifact, write its logs, pull the provisioner image, check its promotion."""
    region, account = args.region, args.account_id
    logs = f"arn:{args.partition}:logs:{region}:{account}:log-group:/aws/codebuild/{deploy_projects_of(env)}"
    deploy_role = args.deploy_role_arn(env)
    return [
        policies.statement(["sts:AssumeRole"], [deploy_role], sid="AssumeThisEnvironmentsDeployRole"),
        *build_state_statements(args, env, secrets_key),
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [_run_artifacts(args)], sid="SourceArtifact"),
        policies.statement(policies.KEY_USE, [data_key], sid="ArtifactKey"),
        policies.statement(policies.LOG_WRITE, [logs, f"{logs}:*"], sid="BuildLogs"),
        *provisioner_image_pull(args, "ProvisionerImage", "EcrLogin"),
        *_promotion_checks(args, env),
        *_deploy_command_records(args),
        *deny_bent_deploy_builds(args),
    ]


def build_state_statements(args: OrchestratorArgs, env: str, secrets_key: str) -> list[policies.Statement]:
    """A deploy build keeps the state of its own target stack only, and decrypts only its environment's
    secrets (docs/security.md, "State isolation").

    The role is shared by every deploy project of `env`; `${codebuild:projectArn}`, which CodeBuild
    resolves to the project of the build using the role, narrows each build to the prefix of its own
    stack (stack file, locks, history, backups: mlops_spec.naming.target_state_prefix).
    """
    bucket = f"arn:{args.partition}:s3:::{args.names.state_bucket}"
    own = target_state_prefix(PROJECT_ARN_VARIABLE)
    return [
        policies.statement(
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [f"{bucket}/{own}/*"], sid="PulumiState"
        ),
        # Listing shows key names, never contents. It cannot be narrowed by s3:prefix: S3 answers "not
        # found" for a missing key only to a caller that may list the bucket (403 otherwise), and that is
        # how Pulumi tells a new stack, an absent lock or meta.yaml, and how `mlops deploy` sees that its
        # stack is still at the root (not moved yet).
        policies.statement(["s3:ListBucket", "s3:GetBucketLocation"], [bucket], sid="PulumiStateList"),
        # The state objects are encrypted with the secrets key by S3 itself (bucket key): only through S3.
        policies.statement(
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [secrets_key],
            sid="PulumiStateObjects",
            condition={"StringEquals": {"kms:ViaService": regional_service("s3", args.region)}},
        ),
        # Pulumi's secrets provider wraps each stack's data key with the environment as encryption context.
        policies.statement(
            ["kms:Encrypt", "kms:Decrypt"],
            [secrets_key],
            sid="PulumiSecretsOfThisEnvironment",
            condition={"StringEquals": {f"kms:EncryptionContext:{STATE_CONTEXT_KEY}": env}},
        ),
    ]


def secrets_key_policy(args: OrchestratorArgs) -> str:
    """The secrets key's policy: the account administers it through IAM, and, should another policy
    ever grant a build role more, the key itself refuses each build role any direct use without its
    own environment as encryption context (S3's use for the state objects excepted)."""
    base = json.loads(policies.kms_key_policy(args.account_id, [], args.partition))
    return policies.document(*base["Statement"], *secrets_key_build_denials(args))


def secrets_key_build_denials(args: OrchestratorArgs) -> list[policies.Statement]:
    """One Deny per environment's build role. The two keys under StringNotEquals must both differ
    (IAM ANDs them); an absent key differs (IAM: a negated operator matches a missing key), so a call
    with no context, or another environment's, and not made by S3, is refused."""
    via_s3 = regional_service("s3", args.region)
    return [
        {
            "Sid": f"BuildsOf{env.capitalize()}UseOnlyTheirEnvironmentsSecrets",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            # A key policy's Resource "*" means "this key".
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": role},
                "StringNotEquals": {f"kms:EncryptionContext:{STATE_CONTEXT_KEY}": env, "kms:ViaService": via_s3},
            },
        }
        for env, role in build_role_arns(args).items()
    ]


def _promotion_checks(args: OrchestratorArgs, env: str) -> list[policies.Statement]:
    """`mlops deploy` reads its own build and the run that started it (lambda_src/provisioner/promotion.py)."""
    return [
        policies.statement(["codebuild:BatchGetBuilds"], [deploy_projects_arn(args, env)], sid="ReadOwnBuild"),
        policies.statement(
            ["codepipeline:GetPipelineState", "codepipeline:ListActionExecutions"],
            [delivery_pipelines_arn(args)],
            sid="ReadDeliveryRun",
        ),
    ]


def _deploy_command_records(args: OrchestratorArgs) -> list[policies.Statement]:
    """What `mlops deploy` reads and writes in the orchestrator account besides state."""
    table = f"arn:{args.partition}:dynamodb:{args.region}:{args.account_id}:table/{args.names.registry_table}"
    statements = [
        # Records the stack's outputs, or its error, on the pipeline's registry item.
        policies.statement(["dynamodb:GetItem", "dynamodb:PutItem"], [table], sid="RecordOutputs"),
    ]
    if args.deploy_role_external_id:
        # Read when the build runs, never a build variable; encrypted with the data key (ArtifactKey).
        parameter = f"arn:{args.partition}:ssm:{args.region}:{args.account_id}:parameter{EXTERNAL_ID_PARAMETER}"
        statements.append(policies.statement(["ssm:GetParameter"], [parameter], sid="DeployRoleExternalId"))
    return statements


def codepipeline_role_statements(args: OrchestratorArgs, data_key: str) -> list[policies.Statement]:
    """Every delivery pipeline: read its source object, keep its artifacts, run its deploy builds,
    announce its approvals."""
    return [
        policies.statement(
            ["s3:GetObject", "s3:GetObjectVersion"], [_assets(args, source_key("*"))], sid="SourceObject"
        ),
        policies.statement(["s3:GetBucketVersioning"], [_assets(args)], sid="SourceBucketVersioning"),
        policies.statement(
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], [_run_artifacts(args)], sid="Artifacts"
        ),
        policies.statement(policies.KEY_USE, [data_key], sid="ArtifactKey"),
        policies.statement(
            ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
            [deploy_projects_arn(args)],
            sid="DeployBuilds",
        ),
        policies.statement(["sns:Publish"], [topic_arn(args)], sid="ApprovalNotifications"),
        *deny_bent_deploy_builds(args),
    ]


# -- the provisioner's hold on delivery stacks -------------------------------------------------------
def provisioner_delivery_statements(args: OrchestratorArgs) -> list[policies.Statement]:
    """Delivery stacks hold a CodePipeline and its deploy projects, which run as the roles this stack
    creates: the provisioner creates no role, and passes those only to the service each is for."""
    return [
        *_delivery_build_logs(args),
        policies.statement(PIPELINE_LIFECYCLE, [delivery_pipelines_arn(args)], sid="DeliveryPipelines"),
        policies.statement(PROJECT_LIFECYCLE, [deploy_projects_arn(args)], sid="DeployProjects"),
        policies.statement(
            ["iam:PassRole"],
            list(build_role_arns(args).values()),
            sid="PassBuildRoles",
            condition={"StringEquals": {"iam:PassedToService": CODEBUILD}},
        ),
        policies.statement(
            ["iam:PassRole"],
            [codepipeline_role_arn(args)],
            sid="PassCodePipelineRole",
            condition={"StringEquals": {"iam:PassedToService": CODEPIPELINE}},
        ),
        policies.statement(
            LEGACY_ROLE_CLEANUP,
            [
                f"arn:{args.partition}:iam::{args.account_id}:role/{args.names.role(legacy)}*"
                for legacy in LEGACY_DELIVERY_ROLES
            ],
            sid="DeleteLegacyDeliveryRoles",
        ),
    ]


def provisioner_guards(args: OrchestratorArgs) -> list[policies.Statement]:
    """Belt and braces, should another policy ever grant more: the provisioner creates and grants no
    role, deletes none of this stack's roles, approves nothing, and cannot bend a deploy build."""
    return [
        policies.statement(ROLE_GRANTS, "*", effect="Deny", sid="DenyGrantingRights"),
        policies.statement(
            ["iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"],
            orchestrator_role_arns(args),
            effect="Deny",
            sid="DenyDeletingOrchestratorRoles",
        ),
        # Only people approve a promotion (the API, on their behalf).
        policies.statement(
            ["codepipeline:PutApprovalResult"], [delivery_pipelines_arn(args)], effect="Deny", sid="DenyApproving"
        ),
        *deny_bent_deploy_builds(args),
    ]


def orchestrator_role_arns(args: OrchestratorArgs) -> list[str]:
    """Every role this stack creates: the functions', API Gateway's logging role, the deploy builds'
    and the delivery pipelines'."""
    purposes = ["provisioner", "api", "trigger", "status", "apigateway-logs", "codepipeline"]
    return sorted([*(args.names.role_arn(p, args.partition) for p in purposes), *build_role_arns(args).values()])


def _delivery_build_logs(args: OrchestratorArgs) -> list[policies.Statement]:
    region, account = args.region, args.account_id
    return [
        policies.statement(
            policies.LOG_GROUP_LIFECYCLE,
            [f"arn:{args.partition}:logs:{region}:{account}:log-group:/aws/codebuild/{DEPLOY_PROJECT_PREFIX}*"],
        ),
        # The provider reads log groups with DescribeLogGroups(prefix), which IAM checks against the
        # account's log groups, not the named one.
        policies.statement(["logs:DescribeLogGroups"], [f"arn:{args.partition}:logs:{region}:{account}:log-group:*"]),
    ]

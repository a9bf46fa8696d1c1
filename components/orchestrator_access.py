"""Who may do what in the orchestrator account: each function's role and the resource policies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from components import policies
from mlops_spec.naming import PIPELINE_ROLE_PATH

if TYPE_CHECKING:
    from components.orchestrator import OrchestratorArgs

CONFIG_FILE_SUFFIX = "mlops-config.json"

EXTERNAL_ID_PARAMETER = "/mlops/deploy-role-external-id"


def _registry_access(args: OrchestratorArgs, write: bool = True) -> policies.Statement:
    table = f"arn:aws:dynamodb:{args.region}:{args.account_id}:table/{args.names.registry_table}"
    actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
    if write:
        actions += ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
    return policies.statement(actions, [table, f"{table}/index/*"])


def _key_use(key_arns: list[str]) -> policies.Statement:
    return policies.statement(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], key_arns)


def _function_logs(args: OrchestratorArgs, function: str) -> policies.Statement:
    log_group = f"arn:aws:logs:{args.region}:{args.account_id}:log-group:/aws/lambda/{function}"
    return policies.statement(["logs:CreateLogStream", "logs:PutLogEvents"], [log_group, f"{log_group}:*"])


def _submission_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """Recording a request: the registry, its spec object, starting the provisioner, announcing."""
    assets = f"arn:aws:s3:::{args.assets_bucket_name}"
    provisioner = f"arn:aws:lambda:{args.region}:{args.account_id}:function:{args.names.role('provisioner')}"
    return [
        _registry_access(args),
        policies.statement(["s3:PutObject", "s3:GetObject"], [f"{assets}/pipelines/*"]),
        policies.statement(["lambda:InvokeFunction"], [provisioner]),
        policies.statement(["sns:Publish"], [topic_arn]),
        _key_use([data_key]),
    ]


def api_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """API function: recording requests, delivery state and approvals, model cards."""
    assets = f"arn:aws:s3:::{args.assets_bucket_name}"
    region, account = args.region, args.account_id
    return [
        *_submission_statements(args, data_key, topic_arn),
        policies.statement(["s3:PutObject"], [f"{assets}/model_card_exports/*"]),
        policies.statement(
            # PutApprovalResult: approve or reject a delivery pipeline's pending manual approval.
            ["codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution", "codepipeline:PutApprovalResult"],
            [f"arn:aws:codepipeline:{region}:{account}:mlops-*"],
        ),
        policies.statement(
            [
                "sagemaker:CreateModelCard",
                "sagemaker:DescribeModelCard",
                "sagemaker:UpdateModelCard",
                "sagemaker:DeleteModelCard",
                "sagemaker:CreateModelCardExportJob",
                "sagemaker:DescribeModelCardExportJob",
                "sagemaker:ListModelCardVersions",
            ],
            [
                f"arn:aws:sagemaker:{region}:{account}:model-card/*",
                f"arn:aws:sagemaker:{region}:{account}:model-card/*/export-job/*",
            ],
        ),
        # ListModelCards has no resource-level permissions: AWS requires "*".
        policies.statement(["sagemaker:ListModelCards"], "*"),
        _function_logs(args, args.names.role("api")),
    ]


def trigger_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """Config-file trigger: read the uploaded file, then the same recording path as the API."""
    assets = f"arn:aws:s3:::{args.assets_bucket_name}"
    return [
        # The trigger reads the exact object version named in the S3 event.
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [f"{assets}/*{CONFIG_FILE_SUFFIX}"]),
        *_submission_statements(args, data_key, topic_arn),
        _function_logs(args, args.names.role("trigger")),
    ]


def status_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """Status function: keep the registry current from CodePipeline events, email the outcome, and
    re-start provisioner runs whose start was lost (the periodic sweep)."""
    region, account = args.region, args.account_id
    return [
        _registry_access(args),
        policies.statement(
            ["lambda:InvokeFunction"], [f"arn:aws:lambda:{region}:{account}:function:{args.names.role('provisioner')}"]
        ),
        policies.statement(
            ["codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution"],
            [f"arn:aws:codepipeline:{args.region}:{args.account_id}:mlops-*"],
        ),
        policies.statement(["sns:Publish"], [topic_arn]),
        _key_use([data_key]),
        _function_logs(args, args.names.role("status")),
    ]


def provisioner_statements(
    args: OrchestratorArgs, data_key: str, secrets_key: str, topic_arn: str
) -> list[policies.Statement]:
    """Provisioner: Pulumi state and secrets, the delivery stacks in this account, and the deploy roles.

    Delivery stacks create CodePipelines, CodeBuild projects, event rules and roles; each service's
    actions are wildcarded because a stack creates, updates and deletes them, but scoped to this
    account and to the `mlops-` names the delivery component uses.
    """
    names = args.names
    region, account = args.region, args.account_id
    state = f"arn:aws:s3:::{names.state_bucket}"
    assets = f"arn:aws:s3:::{args.assets_bucket_name}"
    orchestrator_roles = f"arn:aws:iam::{account}:role/{names.role('')}*"
    return [
        policies.statement(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"], [state, f"{state}/*"]),
        # Reads each request's spec and writes the zip the delivery pipeline takes as its source.
        policies.statement(["s3:GetObject", "s3:PutObject"], [f"{assets}/pipelines/*"]),
        policies.statement(["s3:ListBucket"], [assets]),
        _key_use([data_key, secrets_key]),
        _registry_access(args),
        policies.statement(["sts:AssumeRole"], args.deploy_role_arns()),
        *(
            [
                policies.statement(
                    ["ssm:GetParameter"], [f"arn:aws:ssm:{region}:{account}:parameter{EXTERNAL_ID_PARAMETER}"]
                )
            ]
            if args.deploy_role_external_id
            else []
        ),
        policies.statement(["codepipeline:*"], [f"arn:aws:codepipeline:{region}:{account}:mlops-*"]),
        policies.statement(["codebuild:*"], [f"arn:aws:codebuild:{region}:{account}:project/mlops-*"]),
        policies.statement(["events:*"], [f"arn:aws:events:{region}:{account}:rule/mlops-*"]),
        policies.statement(
            [
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PassRole",
            ],
            [orchestrator_roles],
        ),
        policies.statement(["sns:Publish"], [topic_arn]),
        policies.statement(
            policies.LOG_GROUP_LIFECYCLE,
            [f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/mlops-*"],
        ),
        # The provider reads log groups with DescribeLogGroups(prefix), which IAM checks against the
        # account's log groups, not the named one.
        policies.statement(["logs:DescribeLogGroups"], [f"arn:aws:logs:{region}:{account}:log-group:*"]),
        # A crashed run (timeout, out of memory) is handed to the status function, which records it.
        policies.statement(
            ["lambda:InvokeFunction"], [f"arn:aws:lambda:{region}:{account}:function:{names.role('status')}"]
        ),
        _function_logs(args, names.role("provisioner")),
    ]


def assets_cross_account_statements(args: OrchestratorArgs) -> list[policies.Statement]:
    """Pipeline roles of the other environments' accounts read models and data from the assets bucket."""
    if not args.other_accounts:
        return []
    assets = f"arn:aws:s3:::{args.assets_bucket_name}"
    return [
        {
            "Sid": "TargetAccountsReadAssets",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{acct}:root" for acct in args.other_accounts]},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [assets, f"{assets}/*"],
            "Condition": {
                "ArnLike": {
                    "aws:PrincipalArn": [
                        f"arn:aws:iam::{acct}:role{PIPELINE_ROLE_PATH}*" for acct in args.other_accounts
                    ]
                }
            },
        }
    ]


def data_key_policy(args: OrchestratorArgs) -> str:
    """Orchestrator data key: this account via IAM, services that encrypt for us, and, in
    multi-account mode, the target accounts' pipeline roles decrypting assets through S3."""
    document = json.loads(
        policies.kms_key_policy(
            args.account_id,
            [
                "logging.s3.amazonaws.com",
                f"logs.{args.region}.amazonaws.com",
                "sns.amazonaws.com",
                "events.amazonaws.com",
            ],
        )
    )
    if args.other_accounts:
        document["Statement"].append(
            {
                "Sid": "TargetAccountsDecryptAssetsThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{acct}:root" for acct in args.other_accounts]},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{args.region}.amazonaws.com"}},
            }
        )
    return json.dumps(document, sort_keys=True)


# -- the component --------------------------------------------------------------------------------


def topic_policy(args: OrchestratorArgs, arn: str) -> str:
    """The account manages the topic; EventBridge rules of this account (job-run endings) publish to it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountManagesTopic",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{args.account_id}:root"},
                    "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes"],
                    "Resource": arn,
                },
                {
                    "Sid": "EventRulesPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        },
        sort_keys=True,
    )


def ecr_pull_policy(args: OrchestratorArgs) -> str:
    """Target accounts pull custom algorithm images (their pipeline roles only)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TargetAccountsPull",
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{acct}:root" for acct in args.other_accounts]},
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                }
            ],
        },
        sort_keys=True,
    )


def model_group_policy(args: OrchestratorArgs, group_arn: str) -> str:
    """Target accounts read and deploy packages of the model group."""
    package_arns = group_arn.replace(":model-package-group/", ":model-package/") + "/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TargetAccountsReadModels",
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{acct}:root" for acct in args.other_accounts]},
                    # CreateModel: an endpoint or transform job in a target account builds its model
                    # from a package of this group.
                    "Action": [
                        "sagemaker:CreateModel",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:ListModelPackages",
                    ],
                    "Resource": [group_arn, package_arns],
                }
            ],
        },
        sort_keys=True,
    )

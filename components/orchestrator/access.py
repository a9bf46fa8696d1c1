"""Who may do what in the orchestrator account: each function's role and the resource policies.

Changes when a function needs a new permission or another account a new grant. Plain functions of
the orchestrator's arguments and resolved ARNs; the component only attaches what they return.
"""

from __future__ import annotations

import json
from typing import Any

from components import policies
from components.orchestrator.args import (
    EXTERNAL_ID_PARAMETER,
    OrchestratorArgs,
    delivery_pipelines_arn,
    function_arn,
    status_failures_queue_arn,
)
from components.orchestrator.delivery_access import provisioner_delivery_statements, provisioner_guards
from components.orchestrator.teardown import status_teardown_reads, teardown_statements
from mlops_spec.metric_files import METRIC_FILE_PREFIX
from mlops_spec.naming import CONFIG_FILE_NAME, PIPELINE_ROLE_PATH
from mlops_spec.partitions import regional_service

# -- the functions' roles ----------------------------------------------------------------------------


def _registry_access(args: OrchestratorArgs, write: bool = True) -> policies.Statement:
    table = f"arn:{args.partition}:dynamodb:{args.region}:{args.account_id}:table/{args.names.registry_table}"
    actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
    if write:
        actions += ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
    return policies.statement(actions, [table, f"{table}/index/*"])


def _key_use(key_arns: list[str]) -> policies.Statement:
    return policies.statement(policies.KEY_USE, key_arns)


def _function_logs(args: OrchestratorArgs, purpose: str) -> policies.Statement:
    log_groups = f"arn:{args.partition}:logs:{args.region}:{args.account_id}:log-group"
    log_group = f"{log_groups}:/aws/lambda/{args.function_name(purpose)}"
    return policies.statement(policies.LOG_WRITE, [log_group, f"{log_group}:*"])


def _assets(args: OrchestratorArgs) -> str:
    return f"arn:{args.partition}:s3:::{args.assets_bucket_name}"


def _submission_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """Recording a request: its cost limit, the registry, its spec object, starting the provisioner, announcing."""
    return [
        _registry_access(args),
        policies.statement(["s3:PutObject", "s3:GetObject"], [f"{_assets(args)}/pipelines/*"]),
        policies.statement(["lambda:InvokeFunction"], [function_arn(args, "provisioner")]),
        policies.statement(["sns:Publish"], [topic_arn]),
        _key_use([data_key]),
        # The cost estimate a dry run answers and mlops:maxMonthlyCostPerPipeline is checked against
        # (lambda_src/common/cost_limit.py), at the AWS Price List's current prices. GetProducts has no
        # resource-level permissions: AWS requires "*". It reads public price data only.
        policies.statement(["pricing:GetProducts"], "*", sid="ReadSageMakerPrices"),
    ]


def api_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """API function: recording requests, delivery state and approvals, model cards."""
    partition, region, account = args.partition, args.region, args.account_id
    return [
        *_submission_statements(args, data_key, topic_arn),
        policies.statement(["s3:PutObject"], [f"{_assets(args)}/model_card_exports/*"]),
        # A model card's metric files (metric_file_s3_url): JSON objects under their own prefix only, or
        # any caller could have the API read for them what they may not (other pipelines' requests).
        policies.statement(["s3:GetObject"], [f"{_assets(args)}/{METRIC_FILE_PREFIX}*.json"]),
        policies.statement(
            # PutApprovalResult: approve or reject a delivery pipeline's pending manual approval.
            ["codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution", "codepipeline:PutApprovalResult"],
            [delivery_pipelines_arn(args)],
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
                f"arn:{partition}:sagemaker:{region}:{account}:model-card/*",
                f"arn:{partition}:sagemaker:{region}:{account}:model-card/*/export-job/*",
            ],
        ),
        # ListModelCards has no resource-level permissions: AWS requires "*".
        policies.statement(["sagemaker:ListModelCards"], "*"),
        # A shadow test's variants side by side in the status (lambda_src/api/shadow_metrics.py);
        # GetMetricData has no resource-level permissions: AWS requires "*".
        policies.statement(["cloudwatch:GetMetricData"], "*", sid="ReadShadowTestMetrics"),
        _function_logs(args, "api"),
    ]


def trigger_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """Config-file trigger: read the uploaded file, then the same recording path as the API."""
    return [
        # The trigger reads the exact object version named in the S3 event.
        policies.statement(["s3:GetObject", "s3:GetObjectVersion"], [f"{_assets(args)}/*{CONFIG_FILE_NAME}"]),
        *_submission_statements(args, data_key, topic_arn),
        # A package's status and approver are read again before a deploy on approval (model_approvals.py).
        policies.statement(
            ["sagemaker:DescribeModelPackage"],
            [f"arn:{args.partition}:sagemaker:{args.region}:{args.account_id}:model-package/*"],
            sid="ReadModelPackages",
        ),
        # A rejected version's rollback finds the newest approved one before it;
        # ListModelPackages has no resource-level permissions: AWS requires "*".
        policies.statement(["sagemaker:ListModelPackages"], "*", sid="ListModelPackages"),
        # A monitor's rollback reads the request of the last deployed version, an older version of
        # its spec.json (lambda_src/trigger/monitor_violations.py), found among the object's versions.
        policies.statement(["s3:GetObjectVersion"], [f"{_assets(args)}/pipelines/*"], sid="ReadRequestVersions"),
        policies.statement(
            ["s3:ListBucketVersions"],
            [_assets(args)],
            sid="ListRequestVersions",
            condition={"StringLike": {"s3:prefix": ["pipelines/*"]}},
        ),
        _function_logs(args, "trigger"),
    ]


def status_statements(args: OrchestratorArgs, data_key: str, topic_arn: str) -> list[policies.Statement]:
    """Status function: keep the registry current from CodePipeline events, email the outcome, and
    re-start provisioner runs whose start was lost (the periodic sweep)."""
    return [
        _registry_access(args),
        policies.statement(["lambda:InvokeFunction"], [function_arn(args, "provisioner")]),
        # The sweep reads quiet runs and stops those stuck for hours (lambda_src/status_events/reconcile.py).
        policies.statement(
            [
                "codepipeline:GetPipelineState",
                "codepipeline:GetPipelineExecution",
                "codepipeline:StopPipelineExecution",
            ],
            [delivery_pipelines_arn(args)],
        ),
        policies.statement(["sns:Publish"], [topic_arn]),
        # Its failure destination: events it could not apply after Lambda's retries.
        policies.statement(["sqs:SendMessage"], [status_failures_queue_arn(args)]),
        *status_teardown_reads(args),
        _key_use([data_key]),
        _function_logs(args, "status"),
    ]


def provisioner_statements(
    args: OrchestratorArgs, data_key: str, secrets_key: str, topic_arn: str
) -> list[policies.Statement]:
    """Provisioner: Pulumi state and secrets, the delivery stacks in this account, and the deploy roles."""
    return [
        *_state_and_sources(args, data_key, secrets_key),
        _registry_access(args),
        policies.statement(["sts:AssumeRole"], args.deploy_role_arns()),
        *_external_id_read(args),
        *provisioner_delivery_statements(args),
        policies.statement(["sns:Publish"], [topic_arn]),
        # A crashed run (timeout, out of memory) is handed to the status function, which records it;
        # a drift check starts its own update of a pipeline with auto_remediate (drift.reconciler).
        policies.statement(
            ["lambda:InvokeFunction"], [function_arn(args, "status"), function_arn(args, "provisioner")]
        ),
        _function_logs(args, "provisioner"),
        # Deletions run in teardown builds, as this role (components/orchestrator/teardown.py).
        *teardown_statements(args),
        # The quota preflight of the environments in this account (others': through their deploy roles).
        policies.statement(policies.QUOTA_READ, "*", sid="ReadQuotas"),
        *provisioner_guards(args),
    ]


def _state_and_sources(args: OrchestratorArgs, data_key: str, secrets_key: str) -> list[policies.Statement]:
    """The Pulumi state bucket, the requests' specs and sources, and the keys encrypting them."""
    state = f"arn:{args.partition}:s3:::{args.names.state_bucket}"
    return [
        policies.statement(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"], [state, f"{state}/*"]),
        # Reads each request's spec and writes the zip the delivery pipeline takes as its source.
        policies.statement(["s3:GetObject", "s3:PutObject"], [f"{_assets(args)}/pipelines/*"]),
        policies.statement(["s3:ListBucket"], [_assets(args)]),
        _key_use([data_key, secrets_key]),
    ]


def _external_id_read(args: OrchestratorArgs) -> list[policies.Statement]:
    if not args.deploy_role_external_id:
        return []
    parameter = f"arn:{args.partition}:ssm:{args.region}:{args.account_id}:parameter{EXTERNAL_ID_PARAMETER}"
    return [policies.statement(["ssm:GetParameter"], [parameter])]


# -- resource policies: what other principals may do to the orchestrator's resources ----------------


def _target_accounts(args: OrchestratorArgs) -> dict[str, list[str]]:
    return {"AWS": [f"arn:{args.partition}:iam::{acct}:root" for acct in args.other_accounts]}


def assets_cross_account_statements(args: OrchestratorArgs) -> list[policies.Statement]:
    """Pipeline roles of the other environments' accounts read models and data from the assets bucket."""
    if not args.other_accounts:
        return []
    assets = _assets(args)
    pipeline_roles = [f"arn:{args.partition}:iam::{acct}:role{PIPELINE_ROLE_PATH}*" for acct in args.other_accounts]
    return [
        {
            "Sid": "TargetAccountsReadAssets",
            "Effect": "Allow",
            "Principal": _target_accounts(args),
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [assets, f"{assets}/*"],
            "Condition": {"ArnLike": {"aws:PrincipalArn": pipeline_roles}},
        }
    ]


def data_key_policy(args: OrchestratorArgs) -> str:
    """Orchestrator data key: this account via IAM, services that encrypt for us, and, in
    multi-account mode, the target accounts' pipeline roles decrypting assets through S3."""
    services = [
        "logging.s3.amazonaws.com",
        regional_service("logs", args.region),
        "sns.amazonaws.com",
        "events.amazonaws.com",
        # Alarms publish to the (encrypted) notification topic.
        "cloudwatch.amazonaws.com",
    ]
    document = json.loads(policies.kms_key_policy(args.account_id, services, args.partition))
    if args.other_accounts:
        document["Statement"].append(
            {
                "Sid": "TargetAccountsDecryptAssetsThroughS3",
                "Effect": "Allow",
                "Principal": _target_accounts(args),
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": regional_service("s3", args.region)}},
            }
        )
    return json.dumps(document, sort_keys=True)


def _service_publishes(sid: str, service: str, account: str, topic: str) -> dict[str, Any]:
    """A service of this account (not of any other: the confused-deputy condition) publishes to the topic."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    }


def topic_policy(args: OrchestratorArgs, arn: str) -> str:
    """The account manages the topic; EventBridge rules of this account (job-run endings) publish to it."""
    return policies.document(
        {
            "Sid": "AccountManagesTopic",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{args.partition}:iam::{args.account_id}:root"},
            "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes"],
            "Resource": arn,
        },
        _service_publishes("EventRulesPublish", "events.amazonaws.com", args.account_id, arn),
        _service_publishes("AlarmsPublish", "cloudwatch.amazonaws.com", args.account_id, arn),
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


def ecr_pull_policy(args: OrchestratorArgs) -> str:
    """Target accounts pull custom algorithm images (their pipeline roles only)."""
    return policies.document(
        {
            "Sid": "TargetAccountsPull",
            "Effect": "Allow",
            "Principal": _target_accounts(args),
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    )


def model_group_policy(args: OrchestratorArgs, group_arn: str) -> str:
    """Target accounts read and deploy packages of the model group."""
    package_arns = group_arn.replace(":model-package-group/", ":model-package/") + "/*"
    return policies.document(
        {
            "Sid": "TargetAccountsReadModels",
            "Effect": "Allow",
            "Principal": _target_accounts(args),
            # CreateModel: an endpoint or transform job in a target account builds its model from a
            # package of this group.
            "Action": [
                "sagemaker:CreateModel",
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:ListModelPackages",
            ],
            "Resource": [group_arn, package_arns],
        }
    )

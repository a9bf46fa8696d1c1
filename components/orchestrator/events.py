"""What starts the orchestrator's functions besides the API: config uploads, delivery events, the sweep.

Changes when a function gains or loses an event source.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.base import MlopsComponent
from components.orchestrator.args import OrchestratorArgs
from mlops_spec.drift import DRIFT_CHECK_EVENT, DRIFT_OFF
from mlops_spec.naming import CONFIG_FILE_NAME, DELIVERY_PIPELINE_PREFIX

SWEEP_SCHEDULE = "rate(5 minutes)"


def delivery_event_pattern(account: str) -> dict[str, object]:
    """CodePipeline state changes of the delivery pipelines (and of no other CodePipeline).

    Only this account's: a default bus may also hold events other accounts send to it (an
    organisation's forwarding rules), and another account's pipeline of the same name is not ours."""
    return {
        "account": [account],
        "source": ["aws.codepipeline"],
        "detail-type": [
            "CodePipeline Pipeline Execution State Change",
            "CodePipeline Stage Execution State Change",
            "CodePipeline Action Execution State Change",
        ],
        "detail": {"pipeline": [{"prefix": DELIVERY_PIPELINE_PREFIX}]},
    }


def notification_name(name: str) -> str:
    """Logical name of the S3 notification configuration of the orchestrator's own assets bucket."""
    return f"{name}-config-upload"


def config_upload_event_pattern(bucket: str) -> dict[str, object]:
    """EventBridge "Object Created" events of `bucket` whose key ends with the config file name."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"suffix": CONFIG_FILE_NAME}]}},
    }


def config_trigger(
    owner: MlopsComponent,
    name: str,
    args: OrchestratorArgs,
    assets_bucket: pulumi.Output[str],
    trigger: aws.lambda_.Function,
) -> None:
    """`mlops-config.json` uploaded anywhere in the assets bucket -> trigger function.

    The orchestrator's own bucket gets an S3 notification configuration (it owns the bucket, so it
    may own that configuration too). A user's existing bucket is never written to: S3 sends its
    events to EventBridge (a setting the user turns on, which keeps the bucket's other
    notifications), and a rule of ours picks the config uploads out of them.
    """
    if args.existing_assets_bucket:
        pattern = json.dumps(config_upload_event_pattern(args.existing_assets_bucket), sort_keys=True)
        rule_to_function(
            owner, name, args, trigger, "trigger", "config-uploads", "mlops-config-uploads", event_pattern=pattern
        )
        return
    partition = args.partition
    permission = aws.lambda_.Permission(
        f"{name}-trigger-from-s3",
        action="lambda:InvokeFunction",
        function=trigger.name,
        principal="s3.amazonaws.com",
        source_arn=assets_bucket.apply(lambda bucket: f"arn:{partition}:s3:::{bucket}"),
        source_account=args.account_id,
        opts=owner.child,
    )
    aws.s3.BucketNotification(
        notification_name(name),
        bucket=assets_bucket,
        lambda_functions=[
            aws.s3.BucketNotificationLambdaFunctionArgs(
                lambda_function_arn=trigger.arn, events=["s3:ObjectCreated:*"], filter_suffix=CONFIG_FILE_NAME
            )
        ],
        opts=owner.child_opts(depends_on=[permission]),
    )


def model_approval_pattern(account: str) -> dict[str, object]:
    """Approvals and rejections of model package versions in this account's registry (an event
    another account sends to this bus is not one)."""
    return {
        "account": [account],
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelApprovalStatus": ["Approved", "Rejected"]},
    }


def model_approval_rule(
    owner: MlopsComponent, name: str, args: OrchestratorArgs, trigger: aws.lambda_.Function
) -> None:
    """Pipelines that follow their model package group are updated by the trigger function when a
    newer version is approved (lambda_src/trigger/model_approvals.py)."""
    pattern = json.dumps(model_approval_pattern(args.account_id), sort_keys=True)
    rule_to_function(
        owner, name, args, trigger, "trigger", "model-approvals", "mlops-model-approvals", event_pattern=pattern
    )


def status_function_rules(
    owner: MlopsComponent, name: str, args: OrchestratorArgs, status: aws.lambda_.Function
) -> None:
    """The status function hears of every delivery pipeline's state changes (one rule for all of
    them: a rule per pipeline would outgrow the function's resource policy), and every few minutes
    re-starts runs recorded but never started."""
    pattern = json.dumps(delivery_event_pattern(args.account_id), sort_keys=True)
    rule_to_function(
        owner, name, args, status, "status", "delivery-events", "mlops-delivery-state-changes", event_pattern=pattern
    )
    rule_to_function(
        owner, name, args, status, "status", "sweep", "mlops-sweep-lost-runs", schedule_expression=SWEEP_SCHEDULE
    )
    if args.drift_schedule != DRIFT_OFF and args.provisioner_image_tag:
        # The status function starts one drift check per deployed pipeline (lambda_src/provisioner/drift.py).
        rule_to_function(
            owner,
            name,
            args,
            status,
            "status",
            "drift-check",
            "mlops-drift-check",
            schedule_expression=args.drift_schedule,
            target_input=json.dumps(DRIFT_CHECK_EVENT),
        )


def rule_to_function(
    owner: MlopsComponent,
    name: str,
    args: OrchestratorArgs,
    function: aws.lambda_.Function,
    function_purpose: str,
    purpose: str,
    rule_name: str,
    schedule_expression: str | None = None,
    event_pattern: str | None = None,
    target_input: str | None = None,
    event_bus_name: pulumi.Input[str] | None = None,
    description: str | None = None,
) -> None:
    """An EventBridge rule (on the default bus, or `event_bus_name`) whose events invoke `function`
    (and only this rule may)."""
    rule = aws.cloudwatch.EventRule(
        f"{name}-{purpose}",
        name=rule_name,
        event_bus_name=event_bus_name,
        description=description,
        schedule_expression=schedule_expression,
        event_pattern=event_pattern,
        tags=args.tags,
        opts=owner.child,
    )
    aws.lambda_.Permission(
        f"{name}-{function_purpose}-from-{purpose}",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="events.amazonaws.com",
        source_arn=rule.arn,
        opts=owner.child,
    )
    aws.cloudwatch.EventTarget(
        f"{name}-{purpose}-target",
        rule=rule.name,
        event_bus_name=event_bus_name,
        arn=function.arn,
        input=target_input,
        opts=owner.child,
    )

"""Where a status event that could not be applied goes: retried, then kept in a queue that raises an alarm.

Changes when how the orchestrator surfaces lost work changes. The status function raises when an
event cannot be written (lambda_src/status_events/handler.py): Lambda retries it twice, then hands
it to this queue, and the alarm emails the notification topic. Nothing is dropped silently.
"""

from __future__ import annotations

import pulumi_aws as aws

from components.base import MlopsComponent
from components.orchestrator.args import STATUS_FAILURES_QUEUE, OrchestratorArgs

# EventBridge delivers to Lambda asynchronously; these bound Lambda's own retries of the event.
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 6 * 3600
# Kept long enough for an operator back from a long weekend.
RETENTION_SECONDS = 14 * 24 * 3600


def status_failures(
    owner: MlopsComponent,
    name: str,
    args: OrchestratorArgs,
    status: aws.lambda_.Function,
    data_key: aws.kms.Key,
    topic: aws.sns.Topic,
) -> aws.sqs.Queue:
    """The status function's failure destination, and the alarm on it."""
    queue = aws.sqs.Queue(
        f"{name}-status-failures",
        name=STATUS_FAILURES_QUEUE,
        kms_master_key_id=data_key.arn,
        message_retention_seconds=RETENTION_SECONDS,
        tags=args.tags,
        opts=owner.child,
    )
    aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-status-async",
        function_name=status.name,
        maximum_retry_attempts=RETRY_ATTEMPTS,
        maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
        destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
            on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(destination=queue.arn)
        ),
        # The status role sends to the queue (it is granted in access.py by the queue's name).
        opts=owner.child_opts(depends_on=[queue]),
    )
    aws.cloudwatch.MetricAlarm(
        f"{name}-status-failures-alarm",
        name="mlops-status-events-not-applied",
        alarm_description="Status events the orchestrator could not apply are waiting in "
        f"{STATUS_FAILURES_QUEUE}: the registry may show an out-of-date status.",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": queue.name},
        statistic="Maximum",
        period=300,
        evaluation_periods=1,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[topic.arn],
        tags=args.tags,
        opts=owner.child,
    )
    return queue

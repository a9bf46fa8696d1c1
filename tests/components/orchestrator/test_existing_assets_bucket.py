"""`mlops:existingAssetsBucket`: the user's bucket is never written to; config uploads come through
EventBridge; the plan states what the bucket needs; preview/up stop with one line when the bucket lacks it."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.orchestrator import Orchestrator, OrchestratorArgs
from components.orchestrator.events import config_upload_event_pattern
from components.orchestrator.existing_bucket import BucketSettings, grants, missing
from mlops_cli.mocks import PlanRecorder, policy_of
from mlops_cli.planner import StackPlan, plan_stack

BUCKET = "team-ml-assets"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
SINGLE = {
    "aws:region": "eu-west-1",
    "mlops:mode": "single",
    "mlops:accounts": {"dev": "444444444444"},
    "mlops:existingAssetsBucket": BUCKET,
}
MULTI = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": ACCOUNTS,
    "mlops:existingAssetsBucket": BUCKET,
    "mlops:notificationEmail": "team@example.com",  # required in multi-account mode
}
LEGACY = "urn:legacy-notification"
TRIGGER = "arn:aws:lambda:us-east-1:111111111111:function:mlops-orch-trigger"
RULE = "aws:cloudwatch/eventRule:EventRule"


def multi_args() -> OrchestratorArgs:
    return OrchestratorArgs(
        account_id="111111111111",
        region="us-east-1",
        mode="multi",
        environment="dev",
        environment_accounts=ACCOUNTS,
        existing_assets_bucket=BUCKET,
    )


def read_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def read_grant(principal: Any, actions: list[str], resources: list[str], effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": actions, "Resource": resources}


OBJECTS = f"arn:aws:s3:::{BUCKET}/*"
WHOLE_BUCKET = f"arn:aws:s3:::{BUCKET}"


@pytest.fixture(scope="module")
def single() -> StackPlan:
    return plan_stack("dev", config_values=SINGLE)


@pytest.fixture(scope="module")
def multi() -> StackPlan:
    return plan_stack("dev", config_values=MULTI)


# -- what the plan creates --------------------------------------------------------------------------
def test_nothing_is_written_to_the_existing_bucket(single: StackPlan) -> None:
    s3_resources = [r for r in single.recorder.resources if r.type.startswith("aws:s3/")]
    assert len(s3_resources) > 4  # the orchestrator's other buckets and their settings
    assert [r.name for r in s3_resources if BUCKET in json.dumps(r.inputs)] == []
    assert single.recorder.of_type("aws:s3/bucketNotification:BucketNotification") == []


def test_config_uploads_reach_the_trigger_through_an_eventbridge_rule(single: StackPlan) -> None:
    recorder = single.recorder
    rule = recorder.named(RULE, "mlops-orchestrator-config-uploads")
    assert json.loads(rule.inputs["eventPattern"]) == config_upload_event_pattern(BUCKET)
    assert json.loads(rule.inputs["eventPattern"])["detail"]["object"]["key"] == [{"suffix": "mlops-config.json"}]
    trigger = recorder.named("aws:lambda/function:Function", "mlops-orchestrator-trigger")
    target = recorder.named("aws:cloudwatch/eventTarget:EventTarget", "mlops-orchestrator-config-uploads-target")
    assert target.inputs["arn"] == f"arn:aws:lambda:eu-west-1:444444444444:function:{trigger.inputs['name']}"
    assert target.inputs["rule"] == "mlops-config-uploads"
    permission = recorder.named("aws:lambda/permission:Permission", "mlops-orchestrator-trigger-from-config-uploads")
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"].endswith("/mlops-config-uploads")
    principals = {p.inputs["principal"] for p in recorder.of_type("aws:lambda/permission:Permission")}
    assert "s3.amazonaws.com" not in principals


def test_the_orchestrators_own_bucket_keeps_its_s3_notification() -> None:
    own = plan_stack("dev", config_values={k: v for k, v in SINGLE.items() if k != "mlops:existingAssetsBucket"})
    [notification] = own.recorder.of_type("aws:s3/bucketNotification:BucketNotification")
    assert notification.name == "mlops-orchestrator-config-upload"
    assert notification.inputs["bucket"] == "mlops-assets-444444444444-eu-west-1"
    assert not [r for r in own.recorder.of_type(RULE) if r.name.endswith("config-uploads")]
    assert "assetsBucketRequirements" not in own.outputs


# -- what the plan reports ---------------------------------------------------------------------------
def test_the_plan_lists_what_the_bucket_needs(single: StackPlan) -> None:
    checklist = single.outputs["assetsBucketRequirements"]
    assert any(item.startswith(f"versioning enabled on {BUCKET}") for item in checklist)
    assert any(item.startswith(f"Amazon EventBridge notifications enabled on {BUCKET}") for item in checklist)
    assert any("arn:aws:iam::444444444444:role/mlops-orch-*" in item for item in checklist)
    # One account: no other account reads the bucket, so no policy is asked for.
    assert "assetsBucketPolicy" not in single.outputs
    assert not any("bucket policy" in item for item in checklist)


def test_in_multi_account_mode_the_plan_gives_the_policy_to_merge(multi: StackPlan) -> None:
    [statement] = json.loads(multi.outputs["assetsBucketPolicy"])["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]}
    assert sorted(statement["Action"]) == ["s3:GetObject", "s3:ListBucket"]
    assert statement["Resource"] == [WHOLE_BUCKET, OBJECTS]
    assert statement["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
        "arn:aws:iam::222222222222:role/mlops/*",
        "arn:aws:iam::333333333333:role/mlops/*",
    ]
    assert any("assetsBucketPolicy" in item for item in multi.outputs["assetsBucketRequirements"])
    # The policy it asks for is the one the orchestrator's own bucket gets.
    own = plan_stack("dev", config_values={k: v for k, v in MULTI.items() if k != "mlops:existingAssetsBucket"})
    own_policy = policy_of(own.recorder.named("aws:s3/bucketPolicy:BucketPolicy", "mlops-orchestrator-assets-policy"))
    [own_statement] = [s for s in own_policy["Statement"] if s.get("Sid") == "TargetAccountsReadAssets"]
    assert {**own_statement, "Resource": statement["Resource"]} == statement
    assert multi.violations() == []


# -- what the bucket lacks ---------------------------------------------------------------------------
def test_a_bucket_set_up_as_asked_lacks_nothing() -> None:
    policy = read_policy(read_grant({"AWS": "*"}, ["s3:Get*", "s3:ListBucket"], [WHOLE_BUCKET, OBJECTS]))
    assert missing(multi_args(), BucketSettings(eventbridge=True, policy=policy), LEGACY) == []


def test_eventbridge_off_and_no_policy_are_named() -> None:
    problems = missing(multi_args(), BucketSettings(eventbridge=False, policy=None), LEGACY)
    assert problems[0].startswith("EventBridge notifications are off")
    assert [p for p in problems if "policy" in p] == [
        "its policy does not allow account 222222222222 s3:GetObject (see assetsBucketPolicy)",
        "its policy does not allow account 222222222222 s3:ListBucket (see assetsBucketPolicy)",
        "its policy does not allow account 333333333333 s3:GetObject (see assetsBucketPolicy)",
        "its policy does not allow account 333333333333 s3:ListBucket (see assetsBucketPolicy)",
    ]


def test_the_notification_an_earlier_version_wrote_is_named_with_its_urn() -> None:
    settings = BucketSettings(eventbridge=True, lambda_function_arns=(f"{TRIGGER}:live", "arn:aws:lambda:x:function:y"))
    single_account = OrchestratorArgs(
        account_id="111111111111",
        region="us-east-1",
        mode="single",
        environment="dev",
        environment_accounts={"dev": "111111111111"},
        existing_assets_bucket=BUCKET,
    )
    [problem] = missing(single_account, settings, LEGACY)
    assert f"still invokes {TRIGGER}" in problem
    assert f"pulumi state delete '{LEGACY}'" in problem
    assert (
        missing(single_account, BucketSettings(eventbridge=True, lambda_function_arns=(TRIGGER + "x",)), LEGACY) == []
    )


@pytest.mark.parametrize(
    ("statement", "granted"),
    [
        (read_grant({"AWS": "arn:aws:iam::222222222222:root"}, ["s3:GetObject"], [OBJECTS]), True),
        (read_grant({"AWS": ["222222222222"]}, ["S3:getobject"], [f"{WHOLE_BUCKET}/pipelines/*"]), True),
        (read_grant("*", ["s3:*"], ["*"]), True),
        (read_grant({"AWS": "arn:aws:iam::222222222222:role/mlops/x"}, ["s3:GetObject"], [OBJECTS]), True),
        (read_grant({"AWS": "arn:aws:iam::222222222222:root"}, ["s3:GetObject"], [OBJECTS], effect="Deny"), False),
        (read_grant({"AWS": "arn:aws:iam::999999999999:root"}, ["s3:GetObject"], [OBJECTS]), False),
        (read_grant({"AWS": "arn:aws:iam::222222222222:root"}, ["s3:PutObject"], [OBJECTS]), False),
        (read_grant({"AWS": "arn:aws:iam::222222222222:root"}, ["s3:GetObject"], [f"{WHOLE_BUCKET}/models/*"]), False),
        (read_grant({"Service": "s3.amazonaws.com"}, ["s3:GetObject"], [OBJECTS]), False),
    ],
)
def test_a_grant_counts_when_its_principal_action_and_resource_cover_the_read(
    statement: dict[str, Any], granted: bool
) -> None:
    resource = f"{WHOLE_BUCKET}/pipelines/example/source.zip"
    assert grants(read_policy(statement), "222222222222", "s3:GetObject", resource) is granted


def test_an_unreadable_policy_grants_nothing() -> None:
    assert not grants(None, "222222222222", "s3:GetObject", OBJECTS)
    assert not grants("not json", "222222222222", "s3:GetObject", OBJECTS)


# -- preview and up stop before creating anything ----------------------------------------------------
class BucketWithoutEventBridge(PlanRecorder):
    """The engine of a preview against a bucket whose EventBridge setting is off and which has no policy."""

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:s3/getBucketNotification:getBucketNotification":
            return {
                "bucket": args.args["bucket"],
                "eventbridge": False,
                "lambdaFunctions": [],
                "queues": [],
                "topics": [],
            }, []
        if args.token == "aws:s3/getBucketPolicy:getBucketPolicy":
            # The data source fails on a bucket without a policy.
            return {}, [("bucket", "reading S3 Bucket Policy: couldn't find resource")]
        return super().call(args)


def test_a_bucket_lacking_settings_stops_the_program_with_one_line_before_anything_is_created() -> None:
    recorder = BucketWithoutEventBridge()
    recorder.install(project="mlops-orchestrator", stack="dev")
    pulumi.runtime.set_all_config({})

    @pulumi.runtime.test
    def program() -> None:
        with pytest.raises(pulumi.RunError) as stopped:
            Orchestrator("mlops-orchestrator", multi_args())
        message = str(stopped.value)
        assert "\n" not in message
        assert message.startswith(f"mlops:existingAssetsBucket {BUCKET}: EventBridge notifications are off")
        assert "does not allow account 333333333333 s3:ListBucket" in message

    program()
    assert [r.type for r in recorder.resources] == ["mlops:orchestrator:Orchestrator"]

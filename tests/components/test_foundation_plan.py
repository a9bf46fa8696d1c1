"""Security-relevant inputs of the environment baseline and the orchestrator, planned from stack config."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_cli.mocks import PlannedResource, PlanRecorder, policy_of
from mlops_cli.planner import StackPlan, plan_stack
from mlops_spec.errors import SpecError

MULTI = {
    "aws:region": "us-east-1",
    "mlops:mode": "multi",
    "mlops:accounts": {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
    "mlops:notificationEmail": "team@example.com",
    "mlops:useModelRegistry": True,
    "mlops:provisionerImageTag": "0.1.0",
}
SINGLE = {
    "aws:region": "eu-west-1",
    "mlops:mode": "single",
    "mlops:accounts": {"dev": "444444444444"},
}


def plan(stack: str, values: dict[str, Any]) -> StackPlan:
    return plan_stack(stack, config_values=values)


@pytest.fixture(scope="module")
def dev_multi() -> StackPlan:
    return plan("dev", MULTI)


@pytest.fixture(scope="module")
def dev_single() -> StackPlan:
    return plan("dev", SINGLE)


def children_of(recorder: PlanRecorder, parent: PlannedResource) -> list[PlannedResource]:
    return [r for r in recorder.resources if r.parent_urn == parent.urn]


def secure_bucket_parts(recorder: PlanRecorder) -> dict[str, dict[str, PlannedResource]]:
    """Bucket component name -> {resource type short name -> resource}."""
    parts: dict[str, dict[str, PlannedResource]] = {}
    for component in recorder.of_type("mlops:storage:SecureBucket"):
        parts[component.name] = {r.type.split(":")[-1]: r for r in children_of(recorder, component)}
    return parts


def test_dev_stack_contains_the_orchestrator_building_blocks(dev_multi: StackPlan) -> None:
    counts = dev_multi.recorder.counts_by_type()
    for typ in (
        "aws:apigateway/restApi:RestApi",
        "aws:lambda/function:Function",
        "aws:dynamodb/table:Table",
        "aws:sns/topic:Topic",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
    ):
        assert counts.get(typ, 0) >= 1, typ
    assert counts["aws:lambda/function:Function"] == 4
    assert counts["aws:s3/bucket:Bucket"] == 5


def test_every_bucket_is_kms_encrypted_private_tls_only_and_versioned(dev_multi: StackPlan) -> None:
    buckets = secure_bucket_parts(dev_multi.recorder)
    assert len(buckets) == 5
    for name, parts in buckets.items():
        rule = parts["BucketServerSideEncryptionConfiguration"].inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms", name
        assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:"), name
        block = parts["BucketPublicAccessBlock"].inputs
        assert all(
            block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        ), name
        deny = policy_of(parts["BucketPolicy"])["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name
        assert parts["BucketVersioning"].inputs["versioningConfiguration"]["status"] == "Enabled", name


def test_buckets_other_than_log_buckets_ship_access_logs(dev_multi: StackPlan) -> None:
    buckets = secure_bucket_parts(dev_multi.recorder)
    logged = sorted(name for name, parts in buckets.items() if "BucketLogging" in parts)
    assert logged == ["mlops-dev-artifacts", "mlops-orchestrator-assets", "mlops-orchestrator-state"]
    state_logging = buckets["mlops-orchestrator-state"]["BucketLogging"].inputs
    assert state_logging["targetBucket"] == "mlops-orchestrator-logs-111111111111-us-east-1"


def test_every_kms_key_rotates(dev_multi: StackPlan) -> None:
    keys = dev_multi.recorder.of_type("aws:kms/key:Key")
    assert len(keys) == 3
    assert all(key.inputs["enableKeyRotation"] is True for key in keys)


def test_every_api_method_requires_iam_auth(dev_multi: StackPlan) -> None:
    methods = dev_multi.recorder.of_type("aws:apigateway/method:Method")
    assert len(methods) == 15
    assert {m.inputs["authorization"] for m in methods} == {"AWS_IAM"}
    integrations = dev_multi.recorder.of_type("aws:apigateway/integration:Integration")
    assert {i.inputs["type"] for i in integrations} == {"AWS_PROXY"}


def test_api_stage_logs_access_and_is_throttled(dev_multi: StackPlan) -> None:
    stage = dev_multi.recorder.of_type("aws:apigateway/stage:Stage")[0]
    assert stage.inputs["accessLogSettings"]["destinationArn"].startswith("arn:aws:logs:")
    settings = dev_multi.recorder.of_type("aws:apigateway/methodSettings:MethodSettings")[0].inputs["settings"]
    assert settings["throttlingRateLimit"] == 20 and settings["throttlingBurstLimit"] == 40


def test_registry_table_has_pitr_and_kms(dev_multi: StackPlan) -> None:
    table = dev_multi.recorder.of_type("aws:dynamodb/table:Table")[0].inputs
    assert table["hashKey"] == "pipeline_id"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"]["enabled"] is True
    assert table["serverSideEncryption"]["kmsKeyArn"].startswith("arn:aws:kms:")


def test_topic_is_encrypted_and_emails_the_team(dev_multi: StackPlan) -> None:
    topic = dev_multi.recorder.of_type("aws:sns/topic:Topic")[0].inputs
    assert topic["kmsMasterKeyId"].startswith("arn:aws:kms:")
    subscription = dev_multi.recorder.of_type("aws:sns/topicSubscription:TopicSubscription")[0].inputs
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "team@example.com")


def test_each_function_has_its_own_role_without_admin_statements(dev_multi: StackPlan) -> None:
    functions = dev_multi.recorder.of_type("aws:lambda/function:Function")
    roles = {f.inputs["role"] for f in functions}
    assert len(roles) == len(functions)
    for policy in dev_multi.recorder.of_type("aws:iam/rolePolicy:RolePolicy"):
        for stmt in policy_of(policy)["Statement"]:
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            assert not ("*" in actions and stmt["Resource"] == "*"), policy.name


def test_provisioner_is_a_container_image_and_light_functions_use_zips(dev_multi: StackPlan) -> None:
    functions = {f.name: f.inputs for f in dev_multi.recorder.of_type("aws:lambda/function:Function")}
    provisioner = functions["mlops-orchestrator-provisioner"]
    assert provisioner["packageType"] == "Image"
    assert provisioner["imageUri"] == "111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-provisioner:0.1.0"
    assert provisioner["timeout"] == 900
    api = functions["mlops-orchestrator-api"]
    assert api["handler"] == "lambda_src.api.handler.handler"
    assert api["environment"]["variables"]["MLOPS_MODE"] == "multi"
    assert api["environment"]["variables"]["MLOPS_REGISTRY_TABLE"] == "mlops-pipelines"


def deploy_role_trust_of(planned: StackPlan, env: str) -> list[dict[str, Any]]:
    role = planned.recorder.named("aws:iam/role:Role", f"mlops-{env}-deploy-role").inputs
    assert role["name"] == f"mlops-{env}-deploy"
    statements: list[dict[str, Any]] = json.loads(role["assumeRolePolicy"])["Statement"]
    return statements


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_a_deploy_role_trusts_exactly_the_provisioner_and_its_environments_builds(env: str) -> None:
    planned = plan(env, {**MULTI, "mlops:environment": env})

    [trust] = deploy_role_trust_of(planned, env)
    assert trust["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert trust["Action"] == "sts:AssumeRole"
    # Exact ARNs, no pattern: no other role of the orchestrator account, whatever its name.
    assert trust["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": [
                "arn:aws:iam::111111111111:role/mlops-orch-provisioner",
                f"arn:aws:iam::111111111111:role/mlops-orch-build-{env}",
            ]
        }
    }
    # The staging and prod stacks host no orchestrator.
    assert planned.recorder.of_type("mlops:orchestrator:Orchestrator") == []
    assert "apiUrl" not in planned.outputs


def test_the_single_account_deploy_role_trusts_the_provisioner_and_the_dev_builds(dev_single: StackPlan) -> None:
    [trust] = deploy_role_trust_of(dev_single, "dev")
    assert trust["Principal"] == {"AWS": "arn:aws:iam::444444444444:root"}
    assert trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        "arn:aws:iam::444444444444:role/mlops-orch-provisioner",
        "arn:aws:iam::444444444444:role/mlops-orch-build-dev",
    ]


def test_the_deploy_roles_trust_keeps_the_external_id() -> None:
    from components.environment import EnvironmentBaselineArgs, deploy_role_trust

    args = EnvironmentBaselineArgs("prod", "333333333333", "us-east-1", "111111111111")
    [trust] = json.loads(deploy_role_trust(args, "ext-7f3a"))["Statement"]
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": "ext-7f3a"}
    assert (
        trust["Condition"]["ArnEquals"]["aws:PrincipalArn"][1] == "arn:aws:iam::111111111111:role/mlops-orch-build-prod"
    )


def test_sagemaker_role_is_scoped_to_this_environment(dev_multi: StackPlan) -> None:
    policy = policy_of(dev_multi.recorder.named("aws:iam/rolePolicy:RolePolicy", "mlops-dev-sagemaker-policy"))
    resources = json.dumps([s["Resource"] for s in policy["Statement"]])
    assert "mlops-dev-artifacts-111111111111-us-east-1" in resources
    assert "mlops-staging" not in resources
    role = dev_multi.recorder.named("aws:iam/role:Role", "mlops-dev-sagemaker-role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_multi_account_grants_target_accounts_read_of_assets(dev_multi: StackPlan) -> None:
    buckets = secure_bucket_parts(dev_multi.recorder)
    statements = policy_of(buckets["mlops-orchestrator-assets"]["BucketPolicy"])["Statement"]
    grant = next(s for s in statements if s.get("Sid") == "TargetAccountsReadAssets")
    assert grant["Principal"]["AWS"] == ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]
    assert dev_multi.recorder.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy") != []


def test_single_account_grants_no_other_account_anything(dev_single: StackPlan) -> None:
    text = json.dumps([r.inputs for r in dev_single.recorder.resources], default=str)
    assert "222222222222" not in text and "TargetAccounts" not in text
    assert dev_single.recorder.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy") == []
    assert dev_single.recorder.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup") == []
    assert dev_single.outputs["stateBackendUrl"] == "s3://mlops-pulumi-state-444444444444-eu-west-1?region=eu-west-1"


def test_existing_assets_bucket_is_used_not_created() -> None:
    planned = plan("dev", {**SINGLE, "mlops:existingAssetsBucket": "my-existing-assets"})
    names = [r.inputs.get("bucket") for r in planned.recorder.of_type("aws:s3/bucket:Bucket")]
    assert "my-existing-assets" not in names and len(names) == 4
    assert planned.outputs["assetsBucket"] == "my-existing-assets"
    # Its notification configuration stays the user's (tests/components/orchestrator/test_existing_assets_bucket.py).
    assert planned.recorder.of_type("aws:s3/bucketNotification:BucketNotification") == []


@pytest.mark.parametrize(
    ("values", "key", "problem"),
    [
        ({**SINGLE, "mlops:accounts": {"dev": "12"}}, "mlops:accounts.dev", "12-digit"),
        ({**MULTI, "mlops:accounts": {"dev": "111111111111"}}, "mlops:accounts", "staging, prod"),
        ({**SINGLE, "mlops:mode": "dual"}, "mlops:mode", "single"),
        ({**SINGLE, "aws:region": "mars"}, "aws:region", "region"),
        ({**SINGLE, "mlops:notificationEmail": "not-an-email"}, "mlops:notificationEmail", "email address"),
        ({**SINGLE, "mlops:acounts": {}}, "mlops:acounts", "not a known config key"),
    ],
)
def test_config_errors_name_the_key(values: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        plan("dev", values)
    assert caught.value.errors[0].field == key
    assert problem in caught.value.errors[0].problem


def test_topic_accepts_event_rules_of_this_account_only(dev_multi: StackPlan) -> None:
    policy = policy_of(dev_multi.recorder.of_type("aws:sns/topicPolicy:TopicPolicy")[0])
    events = next(s for s in policy["Statement"] if s["Sid"] == "EventRulesPublish")
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    assert not any(s["Effect"] == "Allow" and s["Principal"] == "*" for s in policy["Statement"])


def test_provisioner_gets_its_settings_and_hands_crashes_to_the_status_function(dev_multi: StackPlan) -> None:
    functions = {f.name: f.inputs for f in dev_multi.recorder.of_type("aws:lambda/function:Function")}
    variables = functions["mlops-orchestrator-provisioner"]["environment"]["variables"]
    keys = {k.inputs["description"]: k for k in dev_multi.recorder.of_type("aws:kms/key:Key")}
    assert variables["MLOPS_ACCOUNTS"] == json.dumps(MULTI["mlops:accounts"], sort_keys=True)
    assert variables["MLOPS_STATE_BACKEND_URL"] == "s3://mlops-pulumi-state-111111111111-us-east-1?region=us-east-1"
    assert variables["MLOPS_SECRETS_PROVIDER"] == "awskms://alias/mlops-pulumi-secrets?region=us-east-1"
    assert variables["MLOPS_PROVISIONER_IMAGE_URI"].endswith("/mlops-provisioner:0.1.0")
    assert variables["MLOPS_STATE_KEY_ARN"] != variables["MLOPS_ASSETS_KMS_KEY_ARN"]
    assert len(keys) == 3
    invoke_config = dev_multi.recorder.named(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "mlops-orchestrator-provisioner-async"
    )
    assert invoke_config.inputs["maximumRetryAttempts"] == 0
    assert invoke_config.inputs["destinationConfig"]["onFailure"]["destination"].endswith("mlops-orch-status")


def test_light_functions_ship_the_shared_code_they_import(dev_multi: StackPlan) -> None:
    api = dev_multi.recorder.named("aws:lambda/function:Function", "mlops-orchestrator-api").inputs
    archive = api["code"]
    files = set(archive.assets) if hasattr(archive, "assets") else set(archive)
    assert {"lambda_src/common/settings.py", "lambda_src/api/handler.py"} <= files
    assert any(name.startswith("lambda_src/registry") for name in files)
    assert not any(name.startswith("lambda_src/provisioner/") for name in files)
    assert api["environment"]["variables"]["MLOPS_PROVISIONER_FUNCTION"] == "mlops-orch-provisioner"


def test_status_function_sweeps_for_lost_runs_every_five_minutes(dev_multi: StackPlan) -> None:
    rules = {r.inputs["name"]: r.inputs for r in dev_multi.recorder.of_type("aws:cloudwatch/eventRule:EventRule")}
    assert rules["mlops-sweep-lost-runs"]["scheduleExpression"] == "rate(5 minutes)"
    targets = dev_multi.recorder.of_type("aws:cloudwatch/eventTarget:EventTarget")
    sweep_target = next(t for t in targets if t.name == "mlops-orchestrator-sweep-target")
    assert sweep_target.inputs["arn"].endswith(":mlops-orch-status")
    status_policy = policy_of(
        dev_multi.recorder.named("aws:iam/rolePolicy:RolePolicy", "mlops-orchestrator-status-policy")
    )
    invoke = next(s for s in status_policy["Statement"] if s["Action"] == ["lambda:InvokeFunction"])
    assert invoke["Resource"] == ["arn:aws:lambda:us-east-1:111111111111:function:mlops-orch-provisioner"]


def statements_of(plan: StackPlan, policy_name: str) -> list[dict[str, Any]]:
    return list(policy_of(plan.recorder.named("aws:iam/rolePolicy:RolePolicy", policy_name))["Statement"])


def test_deploy_role_can_create_the_autoscaling_service_role_and_read_log_group_tags() -> None:
    staging = plan("staging", {**MULTI, "mlops:environment": "staging"})
    statements = {s["Sid"]: s for s in statements_of(staging, "mlops-staging-deploy-policy")}
    linked = statements["AutoscalingServiceLinkedRole"]
    assert linked["Action"] == ["iam:CreateServiceLinkedRole"]
    assert linked["Condition"] == {
        "StringLike": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}
    }
    assert {"logs:ListTagsForResource", "logs:ListTagsLogGroup"} <= set(statements["LogGroups"]["Action"])
    registry = statements["RegistryModelPackages"]
    assert registry["Resource"][0] == "arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-models/*"


def test_provisioner_may_describe_log_groups_account_wide_but_manage_only_its_own(dev_multi: StackPlan) -> None:
    statements = statements_of(dev_multi, "mlops-orchestrator-provisioner-policy")
    describe = next(s for s in statements if s["Action"] == ["logs:DescribeLogGroups"])
    assert describe["Resource"] == ["arn:aws:logs:us-east-1:111111111111:log-group:*"]
    manage = next(s for s in statements if "logs:CreateLogGroup" in s["Action"])
    assert manage["Resource"] == ["arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/mlops-deploy-*"]


def test_target_accounts_may_build_models_from_registry_packages(dev_multi: StackPlan) -> None:
    policy = dev_multi.recorder.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")[0]
    statement = json.loads(policy.inputs["resourcePolicy"])["Statement"][0]
    assert "sagemaker:CreateModel" in statement["Action"]
    assert "sagemaker:UpdateModelPackage" not in statement["Action"]  # approval stays in the orchestrator account


def test_provisioner_concurrency_is_unreserved_unless_configured(dev_multi: StackPlan) -> None:
    def reserved(planned: StackPlan) -> Any:
        function = planned.recorder.named("aws:lambda/function:Function", "mlops-orchestrator-provisioner")
        return function.inputs.get("reservedConcurrentExecutions")

    assert reserved(dev_multi) is None
    configured = {**SINGLE, "mlops:provisionerImageTag": "0.1.0", "mlops:provisionerConcurrency": 5}
    assert reserved(plan("dev", configured)) == 5


def test_external_id_is_kept_in_ssm_and_only_its_name_reaches_the_provisioner(pulumi_mocks: PlanRecorder) -> None:
    import pulumi

    from components.stack import build_stack
    from mlops_cli.planner import config_strings
    from mlops_spec.stack_config import load_stack_config

    config = load_stack_config(config_strings({**SINGLE, "mlops:provisionerImageTag": "0.1.0"}), "dev")

    @pulumi.runtime.test
    def run() -> None:
        build_stack(config, external_id=pulumi.Output.secret("s3cr3t-id"))

    run()
    parameter = pulumi_mocks.of_type("aws:ssm/parameter:Parameter")[0].inputs
    assert (parameter["name"], parameter["type"]) == ("/mlops/deploy-role-external-id", "SecureString")
    assert parameter["keyId"].startswith("arn:aws:kms:")
    provisioner = pulumi_mocks.named("aws:lambda/function:Function", "mlops-orchestrator-provisioner").inputs
    variables = provisioner["environment"]["variables"]
    assert variables["MLOPS_DEPLOY_ROLE_EXTERNAL_ID_PARAMETER"] == "/mlops/deploy-role-external-id"
    assert "s3cr3t-id" not in json.dumps(variables)
    policy = policy_of(pulumi_mocks.named("aws:iam/rolePolicy:RolePolicy", "mlops-orchestrator-provisioner-policy"))
    ssm = next(s for s in policy["Statement"] if s["Action"] == ["ssm:GetParameter"])
    assert ssm["Resource"] == ["arn:aws:ssm:eu-west-1:444444444444:parameter/mlops/deploy-role-external-id"]


def test_the_trigger_records_requests_but_cannot_touch_model_cards_or_approvals(dev_multi: StackPlan) -> None:
    actions = {a for s in statements_of(dev_multi, "mlops-orchestrator-trigger-policy") for a in s["Action"]}
    assert {"dynamodb:PutItem", "lambda:InvokeFunction", "s3:GetObjectVersion", "sns:Publish"} <= actions
    # Of SageMaker, only reading the model registry (deploys on approval: model_approvals.py).
    assert {a for a in actions if a.startswith(("sagemaker:", "codepipeline:"))} == {
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
    }
    api_actions = {a for s in statements_of(dev_multi, "mlops-orchestrator-api-policy") for a in s["Action"]}
    assert {"codepipeline:PutApprovalResult", "sagemaker:CreateModelCard"} <= api_actions


def test_the_trigger_reads_older_request_versions_of_pipelines_only(dev_multi: StackPlan) -> None:
    """A monitor's rollback reads the spec.json of the last deployed version: older object versions
    under pipelines/, listed under that prefix only."""
    statements = {s.get("Sid"): s for s in statements_of(dev_multi, "mlops-orchestrator-trigger-policy")}
    read, listing = statements["ReadRequestVersions"], statements["ListRequestVersions"]
    assert read["Action"] == ["s3:GetObjectVersion"]
    assert [r.rsplit(":::", 1)[1].split("/", 1)[1] for r in read["Resource"]] == ["pipelines/*"]
    assert listing["Action"] == ["s3:ListBucketVersions"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["pipelines/*"]}}


def test_a_first_install_creates_everything_but_the_provisioner_function(dev_single: StackPlan) -> None:
    functions = {f.name for f in dev_single.recorder.of_type("aws:lambda/function:Function")}
    assert functions == {"mlops-orchestrator-api", "mlops-orchestrator-trigger", "mlops-orchestrator-status"}
    repositories = {r.inputs["name"] for r in dev_single.recorder.of_type("aws:ecr/repository:Repository")}
    assert "mlops-provisioner" in repositories
    api = dev_single.recorder.named("aws:lambda/function:Function", "mlops-orchestrator-api").inputs
    assert "MLOPS_PROVISIONER_FUNCTION" not in api["environment"]["variables"]
    invoke_configs = dev_single.recorder.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert [c.name for c in invoke_configs] == ["mlops-orchestrator-status-async"]
    assert dev_single.outputs["provisionerRepositoryUrl"].endswith("/mlops-provisioner")
    assert "provisionerImageUri" not in dev_single.outputs


def test_environment_key_lets_log_services_use_it_for_this_account_only() -> None:
    staging = plan("staging", {**MULTI, "mlops:environment": "staging"})
    key = staging.recorder.named("aws:kms/key:Key", "mlops-staging-key")
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    services = statements["ServicesUseKey"]
    assert services["Principal"]["Service"] == ["delivery.logs.amazonaws.com", "logging.s3.amazonaws.com"]
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": "222222222222"}}
    logs = statements["CloudWatchLogsUseKey"]
    assert logs["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:222222222222:*"
    }


def test_status_events_that_cannot_be_applied_are_retried_then_kept_in_an_alarmed_queue(dev_multi: StackPlan) -> None:
    """Issue 11, case 3: the status function had no failure destination."""
    recorder = dev_multi.recorder
    queue = recorder.named("aws:sqs/queue:Queue", "mlops-orchestrator-status-failures").inputs
    provisioner = recorder.named("aws:lambda/function:Function", "mlops-orchestrator-provisioner").inputs
    assert queue["name"] == "mlops-status-failures"
    assert queue["kmsMasterKeyId"] == provisioner["environment"]["variables"]["MLOPS_ASSETS_KMS_KEY_ARN"]
    config = recorder.named(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "mlops-orchestrator-status-async"
    ).inputs
    assert config["maximumRetryAttempts"] == 2
    assert config["destinationConfig"]["onFailure"]["destination"].endswith(":mlops-status-failures")
    alarm = recorder.named("aws:cloudwatch/metricAlarm:MetricAlarm", "mlops-orchestrator-status-failures-alarm").inputs
    assert (alarm["metricName"], alarm["threshold"], alarm["dimensions"]) == (
        "ApproximateNumberOfMessagesVisible",
        1,
        {"QueueName": "mlops-status-failures"},
    )
    assert alarm["alarmActions"] == [dev_multi.outputs["topicArn"]]
    status_policy = policy_of(recorder.named("aws:iam/rolePolicy:RolePolicy", "mlops-orchestrator-status-policy"))
    sends = [s for s in status_policy["Statement"] if "sqs:SendMessage" in s["Action"]]
    assert [s["Resource"] for s in sends] == [["arn:aws:sqs:us-east-1:111111111111:mlops-status-failures"]]

"""The delivery pipeline's decisions as plain functions: stages, names, build step and role scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.delivery.access import PolicyInputs, codebuild_statements, codepipeline_statements, ecr_repository_arn
from components.delivery.names import artifact_folder, codebuild_role_name, codepipeline_role_name
from components.delivery.stages import approval_message, buildspec, delivery_stages, deploy_environments
from mlops_spec import naming
from mlops_spec.naming import codepipeline_name, pipeline_id_of

INPUTS = PolicyInputs(
    pipeline_id="churn-xgb-realtime-builtin",
    region="us-east-1",
    account_id="111111111111",
    assets_bucket="mlops-assets-111111111111-us-east-1",
    assets_kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/assets",
    state_bucket="mlops-pulumi-state-111111111111-us-east-1",
    state_kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/state",
    notification_topic_arn="arn:aws:sns:us-east-1:111111111111:mlops-notifications",
    provisioner_image_uri="111111111111.dkr.ecr.us-east-1.amazonaws.com/mlops-provisioner:v1",
    registry_table_arn="arn:aws:dynamodb:us-east-1:111111111111:table/mlops-pipelines",
)


def shape(stages: list[Any]) -> list[tuple[str, str, str | None]]:
    return [(s.name, a.kind, a.environment) for s in stages for a in s.actions]


def test_multi_account_promotes_dev_then_staging_then_prod_with_an_approval_before_each(
    spec_for: Callable[..., Any],
):
    stages = delivery_stages(spec_for("byom_realtime_builtin", "multi"), "multi")

    assert shape(stages) == [
        ("Source", "source", None),
        ("DeployDev", "deploy", "dev"),
        ("ApproveStaging", "approval", "staging"),
        ("DeployStaging", "deploy", "staging"),
        ("ApproveProd", "approval", "prod"),
        ("DeployProd", "deploy", "prod"),
    ]


def test_single_account_has_one_deploy_stage_and_no_approval(spec_for: Callable[..., Any]):
    stages = delivery_stages(spec_for("byom_realtime_builtin"), "single")

    assert shape(stages) == [("Source", "source", None), ("Deploy", "deploy", "dev")]


def test_training_deploys_once_even_in_multi_account_mode(spec_for: Callable[..., Any]):
    spec = spec_for("model_training_builtin", "multi")
    assert not spec.MULTI_ACCOUNT

    stages = delivery_stages(spec, "multi")

    assert deploy_environments(stages) == ["dev"]
    assert not any(a.kind == "approval" for s in stages for a in s.actions)


def test_codepipeline_names_keep_their_artifact_folders_apart():
    """CodePipeline files artifacts under the name's first 20 characters; similar ids must not share them."""
    a = codepipeline_name("churn-model-realtime-builtin")
    b = codepipeline_name("churn-model-realtime-custom")

    assert artifact_folder(a) != artifact_folder(b)
    assert a.startswith("mlops-") and a.endswith("churn-model-realtime-builtin") and len(a) <= 100


def test_the_status_function_finds_the_pipeline_id_in_the_name():
    longest = "x" * naming.PIPELINE_ID_LIMIT

    assert pipeline_id_of(codepipeline_name(longest)) == longest
    assert pipeline_id_of("mlops-00000000-churn-xgb-realtime-builtin") is None  # hash does not match
    assert pipeline_id_of("someone-elses-pipeline") is None


def test_roles_carry_the_orchestrator_prefix_and_fit_iams_limit():
    """The provisioner may only manage `mlops-orch-*` roles; deploy roles trust that prefix."""
    longest = "x" * naming.PIPELINE_ID_LIMIT

    for name in (codebuild_role_name(longest, "staging"), codepipeline_role_name(longest)):
        assert name.startswith(naming.ORCHESTRATOR_ROLE_PREFIX) and len(name) <= 64
    assert codebuild_role_name(longest, "staging") != codebuild_role_name(longest, "prod")


def test_the_pipeline_role_can_never_assume_a_deploy_role():
    statements = codepipeline_statements(INPUTS, ["dev"])

    assert not any(action.startswith("sts:") for s in statements for action in s["Action"])


def test_the_build_deploys_the_approved_spec_from_its_source_artifact():
    assert (
        'mlops deploy --pipeline-id "$PIPELINE_ID" --env "$TARGET_ENV" --spec-file "$CODEBUILD_SRC_DIR/spec.json"'
        in buildspec()
    )


def test_a_build_role_may_assume_exactly_its_environments_deploy_role():
    deploy_role = "arn:aws:iam::222222222222:role/mlops-staging-deploy"
    statements = {s["Sid"]: s for s in codebuild_statements(INPUTS, "staging", deploy_role)}

    assert statements["AssumeThisEnvironmentsDeployRole"]["Resource"] == [deploy_role]
    assert statements["PulumiState"]["Resource"] == [f"arn:aws:s3:::{INPUTS.state_bucket}/.pulumi/*"]
    assert statements["PulumiStateKey"]["Resource"] == [INPUTS.state_kms_key_arn]
    folder = artifact_folder(codepipeline_name(INPUTS.pipeline_id))
    assert statements["SourceArtifact"]["Resource"] == [f"arn:aws:s3:::{INPUTS.assets_bucket}/{folder}/*"]
    assert statements["BuildLogs"]["Resource"][0].endswith(
        f"log-group:/aws/codebuild/mlops-deploy-{INPUTS.pipeline_id}-staging"
    )
    assert statements["ProvisionerImage"]["Resource"] == [
        "arn:aws:ecr:us-east-1:111111111111:repository/mlops-provisioner"
    ]
    registry = statements["RecordOutputs"]
    assert registry["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [INPUTS.pipeline_id]}}
    wildcards = [s["Sid"] for s in statements.values() if s["Resource"] == "*"]
    assert wildcards == ["EcrLogin"]


def test_the_pipeline_role_reads_only_its_source_object_and_runs_only_its_builds():
    statements = {s["Sid"]: s for s in codepipeline_statements(INPUTS, ["dev", "staging", "prod"])}

    assert statements["SourceObject"]["Resource"] == [
        f"arn:aws:s3:::{INPUTS.assets_bucket}/pipelines/{INPUTS.pipeline_id}/source.zip"
    ]
    assert statements["DeployBuilds"]["Resource"] == [
        f"arn:aws:codebuild:us-east-1:111111111111:project/mlops-deploy-{INPUTS.pipeline_id}-{env}"
        for env in ("dev", "staging", "prod")
    ]
    assert statements["ApprovalNotifications"]["Resource"] == [INPUTS.notification_topic_arn]
    assert not any(s["Resource"] == "*" for s in statements.values())


def test_approval_messages_name_the_account_and_fit_codepipelines_limit():
    text = approval_message("x" * 40, "prod", "333333333333", "staging")

    assert "prod (account 333333333333)" in text and "live in staging" in text
    assert len(approval_message("x" * 600, "prod", "333333333333", "staging")) <= 500


def test_repository_arns_come_from_tagged_and_digest_image_uris():
    digest = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/provisioner@sha256:" + "a" * 64

    assert ecr_repository_arn(digest) == "arn:aws:ecr:eu-west-1:111111111111:repository/team/provisioner"

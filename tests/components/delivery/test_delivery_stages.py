"""The delivery pipeline's decisions as plain functions: stages, names and the build step."""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from components.delivery.names import artifact_folder, build_log_group, project_name
from components.delivery.stages import approval_message, buildspec, delivery_stages, deploy_environments
from mlops_spec import naming
from mlops_spec.naming import codepipeline_name, pipeline_id_of


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


def test_the_build_deploys_the_approved_spec_from_its_source_artifact():
    assert (
        'mlops deploy --pipeline-id "$PIPELINE_ID" --env "$TARGET_ENV" --spec-file "$CODEBUILD_SRC_DIR/spec.json"'
        in buildspec()
    )


def test_approval_messages_name_the_account_and_fit_codepipelines_limit():
    text = approval_message("x" * 40, "prod", "333333333333", "staging")

    assert "prod (account 333333333333)" in text and "live in staging" in text
    assert len(approval_message("x" * 600, "prod", "333333333333", "staging")) <= 500


def test_every_pipelines_artifacts_fall_under_the_folders_the_shared_roles_may_use():
    """The shared build and CodePipeline roles reach run artifacts by the folder pattern in
    mlops_spec.naming, not by one pipeline's folder: every pipeline's folder must match it."""
    ids = ["a", "churn-xgb-realtime-builtin", "x" * naming.PIPELINE_ID_LIMIT, "fraud-7-batch"]

    for pipeline_id in ids:
        assert fnmatchcase(artifact_folder(codepipeline_name(pipeline_id)), naming.DELIVERY_ARTIFACT_FOLDERS)
    # Requests uploaded to the bucket's root and the stored specs are not run artifacts.
    assert not fnmatchcase(naming.CONFIG_FILE_NAME, naming.DELIVERY_ARTIFACT_FOLDERS)
    assert not fnmatchcase(naming.spec_key("churn-xgb-realtime-builtin"), naming.DELIVERY_ARTIFACT_FOLDERS)


def test_deploy_projects_and_their_logs_match_their_environments_pattern_only():
    """Build roles are scoped to `mlops-deploy-*-<env>`: a project matches its own environment's pattern
    and no other, even when the pipeline id ends like an environment."""
    for pipeline_id in ("churn-xgb-realtime-builtin", "model-prod", "x-staging"):
        for env in ("dev", "staging", "prod"):
            matches = [
                e
                for e in ("dev", "staging", "prod")
                if fnmatchcase(project_name(pipeline_id, env), naming.deploy_projects_of(e))
            ]
            assert matches == [env], (pipeline_id, env)
            assert build_log_group(pipeline_id, env) == f"/aws/codebuild/{project_name(pipeline_id, env)}"

"""Deploys on registry approval (issue 14): which package versions a request follows, and the rules of
the fields that ask for it."""

from __future__ import annotations

import pytest

from mlops_spec.model_packages import package_version
from mlops_spec.request import RequestError, parse_pipeline_request
from tests.support.provisioner_settings import load_example

pytestmark = pytest.mark.fast
V3 = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/3"


def test_a_version_supersedes_only_older_versions_of_its_own_group():
    v3, v4 = package_version(V3), package_version(V3.replace("/3", "/4"))
    other_group = package_version(V3.replace("churn/3", "fraud/9"))
    assert v3 is not None and v4 is not None and other_group is not None
    assert (v4.group, v4.version) == ("churn", 4)
    assert v4.supersedes(v3) and not v3.supersedes(v4) and not v3.supersedes(v3)
    assert not other_group.supersedes(v3)
    assert package_version("arn:aws:sagemaker:us-east-1:111111111111:model-package-group/churn") is None
    assert package_version(None) is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"deploy_on_approval": True}, "deploy_on_approval: needs model_package_name"),
        ({"rollback_on_reject": True, "model_package_name": V3}, "rollback_on_reject: needs deploy_on_approval"),
        (
            {"deploy_on_approval": True, "model_package_name": V3.replace("churn", "mlops-models")},
            "deploy_on_approval: cannot follow the shared group mlops-models",
        ),
    ],
)
def test_following_the_registry_needs_a_package_and_a_rollback_needs_the_following(changes, problem):
    with pytest.raises(RequestError) as refused:
        parse_pipeline_request({**load_example("byom_realtime_builtin"), **changes}, mode="single")
    assert problem in str(refused.value)


def test_a_request_following_its_group_keeps_both_switches():
    body = {**load_example("byom_batch_builtin"), "model_package_name": V3, "deploy_on_approval": True}
    spec = parse_pipeline_request({**body, "rollback_on_reject": True}, mode="single")
    assert (spec.deploy_on_approval, spec.rollback_on_reject) == (True, True)


def test_an_option_added_in_a_later_release_changes_no_requests_hash_or_job_names():
    """Re-sending an unchanged request after an upgrade stays a replay, and its jobs keep their names."""
    spec = parse_pipeline_request(load_example("model_training_builtin"), mode="single")

    class WithALaterOption(type(spec)):  # type: ignore[misc, valid-type]
        a_later_option: bool = False

    later = WithALaterOption.model_validate(spec.model_dump())
    assert later.spec_hash() == spec.spec_hash()
    assert later.run_name("dev", "training") == spec.run_name("dev", "training")
    assert (
        WithALaterOption.model_validate({**spec.model_dump(), "a_later_option": True}).spec_hash() != spec.spec_hash()
    )

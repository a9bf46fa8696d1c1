"""A pipeline a monitor blocked (on_violation: block, issue 14) deploys no environment until a person sends it a
new version: refused everywhere (an approval given before the block does not outlast it), and refused too when
the registry cannot be read (a block could not be ruled out)."""

from __future__ import annotations

import pytest

from lambda_src.provisioner.promotion import Promotion, PromotionRefused
from tests.support.provisioner_settings import example_spec, make_settings

pytestmark = pytest.mark.fast

BLOCK = {"monitor": "churn-xgb-data-quality", "run": "arn:aws:sagemaker:::processing-job/r1", "at": "2026-12-06T09:00Z"}


def test_a_blocked_pipeline_is_refused_where_no_approval_guards_the_environment() -> None:
    with pytest.raises(PromotionRefused) as refused:
        Promotion(build_id=None).refuse_if_blocked(BLOCK, example_spec(), "dev", make_settings("single"))

    assert refused.value.message == (
        "dev is blocked by monitor churn-xgb-data-quality (run arn:aws:sagemaker:::processing-job/r1,"
        " 2026-12-06T09:00Z): its promotions wait for a person; send the pipeline a new request version to lift"
        " the block"
    )


def test_a_blocked_pipeline_is_refused_where_an_approval_guards_the_environment_too() -> None:
    multi, spec = make_settings("multi"), example_spec("byom_realtime_builtin", "multi")
    gate = Promotion(build_id=None)

    gate.refuse_if_blocked(None, spec, "prod", multi)
    for env in ("staging", "prod"):
        with pytest.raises(PromotionRefused, match=f"^{env} is blocked by monitor churn-xgb-data-quality"):
            gate.refuse_if_blocked(BLOCK, spec, env, multi)


def test_a_registry_that_cannot_be_read_refuses_the_deploy() -> None:
    from lambda_src.provisioner.deploy import _blocked

    class Unreadable:
        def get(self, pipeline_id: str) -> None:
            raise RuntimeError("AccessDenied")

    with pytest.raises(PromotionRefused) as refused:
        _blocked(Unreadable(), "churn-xgb")  # type: ignore[arg-type]

    assert refused.value.retryable is True
    assert refused.value.message == (
        "could not read the registry record of churn-xgb to check for a monitor's block: AccessDenied"
    )

"""A pipeline a monitor blocked (on_violation: block, issue 14) deploys no environment a person has not
approved: refused where no approval guards it; where one does, the approved run is demanded as before."""

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


def test_where_an_approval_guards_it_or_nothing_blocks_the_gate_is_as_before() -> None:
    multi, spec = make_settings("multi"), example_spec("byom_realtime_builtin", "multi")
    gate = Promotion(build_id=None)

    gate.refuse_if_blocked(BLOCK, spec, "prod", multi)  # the approved run is demanded there anyway
    gate.refuse_if_blocked(None, spec, "dev", multi)
    with pytest.raises(PromotionRefused):
        gate.refuse_if_blocked(BLOCK, spec, "dev", multi)

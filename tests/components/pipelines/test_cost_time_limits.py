"""Cost estimates price batch transform runs and monitor baselines at the time limits the components
give them (mlops_spec/costs.py cannot import components): the two must not drift apart."""

from __future__ import annotations

from components.pipelines.batch import RUN_TIMEOUT_SECONDS
from components.pipelines.monitors.plan import DEFAULT_BASELINE_SECONDS
from mlops_spec import costs


def test_a_batch_run_is_priced_at_the_time_limit_of_its_state_machine() -> None:
    assert costs.BATCH_RUN_LIMIT_SECONDS == RUN_TIMEOUT_SECONDS


def test_a_baseline_without_a_limit_is_priced_at_the_limit_the_component_assumes() -> None:
    assert costs.DEFAULT_BASELINE_SECONDS == DEFAULT_BASELINE_SECONDS

"""What a request needs of the account's SageMaker instance quotas (issue 15, quota preflight)."""

from __future__ import annotations

import pytest

from mlops_spec.capacity import (
    InstanceNeed,
    Shortfall,
    Usage,
    instance_needs,
    shortfalls,
    total_by_quota,
    unknown_needs,
)
from mlops_spec.request import parse_pipeline_request
from tests.support.provisioner_settings import example_spec, load_example

pytestmark = pytest.mark.fast


def needs(pipeline_type: str, updating: bool = False, **changes: object) -> list[InstanceNeed]:
    body = {**load_example(pipeline_type), **changes}
    return instance_needs(parse_pipeline_request(body, mode="single"), "dev", updating=updating)


def test_an_endpoint_needs_its_instances_and_twice_as_many_during_a_blue_green_update():
    assert needs("byom_realtime_builtin", instance_count=2, inference_instance="ml.c5.xlarge") == [
        InstanceNeed("ml.c5.xlarge", Usage.ENDPOINT, 2, "2 endpoint instances")
    ]
    [update] = needs("byom_realtime_builtin", updating=True, instance_count=3)
    assert (update.quota, update.count) == ("ml.m5.large for endpoint usage", 6)


def test_autoscaling_counts_up_to_its_maximum():
    [need] = needs("byom_realtime_builtin", instance_count=2, autoscaling={"min_capacity": 2, "max_capacity": 5})
    assert (need.count, need.why) == (5, "up to 5 with autoscaling")


def test_a_serverless_endpoint_holds_no_instances():
    assert needs("byom_realtime_serverless") == []
    assert needs("byom_realtime_serverless", updating=True) == []


def test_jobs_draw_on_their_own_usage_quotas():
    [transform] = needs("byom_batch_builtin", instance_count=3)
    [monitor] = needs("byom_data_quality_monitor")
    [spot] = needs("model_training_builtin", use_spot_instances=True, instance_count=2)
    [on_demand] = needs("model_training_builtin", use_spot_instances=False)
    assert (transform.quota, transform.count) == ("ml.m5.large for transform job usage", 3)
    assert (monitor.usage, monitor.count) == (Usage.PROCESSING, 1)
    assert (spot.quota, spot.count) == ("ml.m5.xlarge for spot training job usage", 2)
    assert on_demand.quota == "ml.m5.xlarge for training job usage"


def test_a_tuning_job_holds_its_parallel_jobs_instances_at_once():
    body = load_example("model_tuner_builtin")
    body["tuner_configs"] = {**body["tuner_configs"], "max_jobs": 10, "max_parallel_jobs": 3}
    [need] = instance_needs(parse_pipeline_request({**body, "instance_count": 2}, mode="single"), "dev")
    assert (need.count, need.why) == (6, "3 tuning jobs at a time")


def test_autopilot_needs_cannot_be_known_and_say_so():
    spec = example_spec("model_autopilot_training")
    assert instance_needs(spec, "dev") == []
    assert unknown_needs(spec) == (
        "Autopilot chooses its instance types as it runs; its quotas cannot be checked beforehand"
    )


def test_per_environment_values_are_read_for_that_environment():
    body = load_example("byom_realtime_builtin", "multi")
    body["instance_count"] = {"dev": 2, "staging": 3, "prod": 4}
    spec = parse_pipeline_request(body, mode="multi")
    assert [n.count for env in ("dev", "staging", "prod") for n in instance_needs(spec, env)] == [2, 3, 4]


def test_a_shortfall_counts_what_is_held_and_names_quota_value_and_need():
    needed = total_by_quota(
        [InstanceNeed("ml.m5.large", Usage.ENDPOINT, 2, "x"), InstanceNeed("ml.m5.large", Usage.ENDPOINT, 1, "y")]
    )
    quotas = {"ml.m5.large for endpoint usage": 4}

    assert needed == {"ml.m5.large for endpoint usage": 3}
    assert shortfalls(needed, quotas, {}) == []
    [short] = shortfalls(needed, quotas, {"ml.m5.large for endpoint usage": 2})
    assert short == Shortfall("ml.m5.large for endpoint usage", 4, 2, 3)
    assert short.message == (
        "SageMaker quota 'ml.m5.large for endpoint usage' is 4, 2 held by this project's other pipelines; "
        "this request needs 3 more. Ask for an increase in Service Quotas, or choose another instance type or count."
    )
    # A quota of 0, the usual first-deploy surprise; a quota the account does not list is not judged here.
    assert [
        s.value for s in shortfalls({"ml.g5.xlarge for endpoint usage": 1}, {"ml.g5.xlarge for endpoint usage": 0}, {})
    ] == [0]
    assert shortfalls({"ml.new.large for endpoint usage": 1}, {}, {}) == []


def test_an_autoscaled_endpoint_is_held_at_its_instance_count_and_updated_beside_a_fleet_of_that_size():
    scaled = {"instance_count": 2, "autoscaling": {"min_capacity": 2, "max_capacity": 5}}
    spec = parse_pipeline_request({**load_example("byom_realtime_builtin"), **scaled}, mode="single")

    [at_rest] = instance_needs(spec, "dev", at_rest=True)
    [update] = instance_needs(spec, "dev", updating=True)

    assert at_rest.count == 2
    assert (update.count, update.why) == (7, "up to 5 with autoscaling, and 2 more during a blue/green update")

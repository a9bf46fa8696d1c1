"""Which AWS account publishes the container images monitors run, in which region. Pure data and a check.

Changes when AWS publishes the model-monitor analyzer or the Clarify image in another region or account.
Read by the request validation (a monitor whose image is not published in the orchestrator's region is a
field error, at validate, plan, provision and the API) and by the monitor components (the image URIs).
"""

from __future__ import annotations

# AWS accounts publishing the model-monitor analyzer and the Clarify processing image, per region
# (as listed by the SageMaker Python SDK's image_uri_config/model-monitor.json and clarify.json, 2.257.7;
# the SDK lists no model-monitor analyzer in GovCloud).
MODEL_MONITOR_REGISTRIES = {
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
    "ca-central-1": "536280801234",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "eu-central-1": "048819808253",
    "eu-north-1": "895015795356",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "sa-east-1": "539772159869",
    "cn-north-1": "453000072557",
    "cn-northwest-1": "453252182341",
}
CLARIFY_REGISTRIES = {
    "us-east-1": "205585389593",
    "us-east-2": "211330385671",
    "us-west-1": "740489534195",
    "us-west-2": "306415355426",
    "ca-central-1": "675030665977",
    "eu-west-1": "131013547314",
    "eu-west-2": "440796970383",
    "eu-west-3": "341593696636",
    "eu-central-1": "017069133835",
    "eu-north-1": "763603941244",
    "ap-northeast-1": "377024640650",
    "ap-northeast-2": "263625296855",
    "ap-south-1": "452307495513",
    "ap-southeast-1": "834264404009",
    "ap-southeast-2": "007051062584",
    "sa-east-1": "520018980103",
    "cn-north-1": "122526803553",
    "cn-northwest-1": "122578899357",
    "us-gov-west-1": "598674086554",
}

# The image each monitor type runs: its repository and the table of its publishers.
MODEL_MONITOR_REPOSITORY = "sagemaker-model-monitor-analyzer"
CLARIFY_REPOSITORY = "sagemaker-clarify-processing"
IMAGES_OF_TYPE = {
    "byom_data_quality_monitor": (MODEL_MONITOR_REPOSITORY, MODEL_MONITOR_REGISTRIES),
    "byom_model_quality_monitor": (MODEL_MONITOR_REPOSITORY, MODEL_MONITOR_REGISTRIES),
    "byom_model_bias_monitor": (CLARIFY_REPOSITORY, CLARIFY_REGISTRIES),
    "byom_model_explainability_monitor": (CLARIFY_REPOSITORY, CLARIFY_REGISTRIES),
}


def unpublished(repository: str, registries: dict[str, str], region: str) -> str | None:
    """Why `repository`'s image cannot be run in `region` (no publisher known there); None when it can."""
    if region in registries:
        return None
    known = ", ".join(sorted(registries))
    return f"no {repository} image is known for region {region!r}; supported: {known}"


def monitor_region_problem(pipeline_type: str, region: str) -> str | None:
    """Why a monitor of `pipeline_type` cannot run in `region`, naming the region and where it can; None
    when it can (or the type is no monitor)."""
    if pipeline_type not in IMAGES_OF_TYPE:
        return None
    repository, registries = IMAGES_OF_TYPE[pipeline_type]
    return unpublished(repository, registries, region)

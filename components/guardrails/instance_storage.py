"""Where SageMaker refuses a volume KMS key (NVMe instance storage, serverless); changes with AWS instance families.

Both the encryption-at-rest rule (endpoint configs) and the SageMaker job rules exempt these cases: the
hardware encrypts instance storage, and asking for a key there makes SageMaker refuse the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.guardrails.values import as_list, present
from mlops_spec.instance_types import has_instance_storage

ENDPOINT_CONFIG_TYPE = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def endpoint_volume_key_refused(inputs: Mapping[str, Any]) -> bool:
    """SageMaker refuses an endpoint config's KmsKeyId when any variant is serverless or has instance storage."""
    variants = as_list(inputs.get("productionVariants")) + as_list(inputs.get("shadowProductionVariants"))
    return any(
        isinstance(v, Mapping) and (present(v.get("serverlessConfig")) or has_instance_storage(v.get("instanceType")))
        for v in variants
    )

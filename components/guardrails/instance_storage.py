"""Where SageMaker refuses a volume KMS key (NVMe instance storage, serverless); changes with AWS instance families.

Both the encryption-at-rest rule (endpoint configs) and the SageMaker job rules exempt these cases: the
hardware encrypts instance storage, and asking for a key there makes SageMaker refuse the request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.guardrails.values import as_list, present

ENDPOINT_CONFIG_TYPE = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"

# Families with a "d" after the generation (m5d, g4dn, p4de, c6id) and families that always have it.
_INSTANCE_STORAGE = re.compile(r"ml\.(?:[a-z]+\d[a-z]*d[a-z]*|g5|g6e?|gr6|p5e?n?|trn1n?)\..+")


def has_instance_storage(instance_type: Any) -> bool:
    return isinstance(instance_type, str) and bool(_INSTANCE_STORAGE.fullmatch(instance_type))


def endpoint_volume_key_refused(inputs: Mapping[str, Any]) -> bool:
    """SageMaker refuses an endpoint config's KmsKeyId when any variant is serverless or has instance storage."""
    variants = as_list(inputs.get("productionVariants")) + as_list(inputs.get("shadowProductionVariants"))
    return any(
        isinstance(v, Mapping) and (present(v.get("serverlessConfig")) or has_instance_storage(v.get("instanceType")))
        for v in variants
    )

"""Facts about SageMaker instance types that decide what a request may ask for. Pure Python.

Changes when AWS adds instance families.
"""

from __future__ import annotations

import re
from typing import Any

# Nitro instances with local NVMe storage encrypt it in hardware, and SageMaker rejects a volume KMS
# key for them ("You can't request a KmsKeyId when using an instance type with local storage").
# Families with a "d" after the generation (m5d, g4dn, p4d, c6id, r6gd) plus those that always ship NVMe.
_INSTANCE_STORAGE = re.compile(r"ml\.(?:[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|gr6|p5|p5e|p5en|trn1|trn1n)\..+")


def has_instance_storage(instance_type: Any) -> bool:
    """True for instance types with local NVMe storage (SageMaker refuses a volume KMS key for them)."""
    return isinstance(instance_type, str) and bool(_INSTANCE_STORAGE.fullmatch(instance_type))

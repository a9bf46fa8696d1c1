"""Guardrails as code: the security rules every planned stack must pass; it changes when a public name moves.

Each rule is declared beside its check with `guardrail` (core.py), in the module of its concern:
s3.py, encryption.py, sagemaker.py and iam.py. `mlops plan` runs them offline through `check_all`;
the Pulumi policy pack in `policy_pack/` serves the same registry as mandatory policies. Pure Python:
no pulumi import. Importing the package imports every domain module, which declares its rules.
"""

from components.guardrails.core import (
    DOMAINS,
    UNKNOWN,
    Finding,
    GuardedResource,
    NeedsAccount,
    Resource,
    Rule,
    RuleCheck,
    Violation,
    check_all,
    guardrail,
    rules,
)
from components.guardrails.encryption import kms_encryption_at_rest
from components.guardrails.iam import (
    ADMIN_ACTIONS,
    ADMIN_MANAGED_POLICY,
    IDENTITY_POLICY_TYPES,
    POLICY_ATTACHMENT_TYPES,
    ROLE_TYPE,
    ROLE_WRITES,
    iam_cross_account_trust,
    iam_no_admin_wildcards,
    iam_no_service_wildcards,
    iam_pass_role_conditioned,
    iam_role_writes_need_boundary,
)
from components.guardrails.instance_storage import ENDPOINT_CONFIG_TYPE, has_instance_storage
from components.guardrails.s3 import (
    BUCKET_ACL_TYPES,
    BUCKET_POLICY_TYPES,
    BUCKET_TYPES,
    KMS_SSE_ALGORITHMS,
    PUBLIC_ACCESS_BLOCK_TYPES,
    PUBLIC_ACCESS_FLAGS,
    PUBLIC_CANNED_ACLS,
    SSE_TYPES,
    attached_to,
    bucket_references,
    denies_plain_http,
    s3_kms_encryption,
    s3_no_public_access,
    s3_public_access_block,
    s3_tls_only,
)
from components.guardrails.sagemaker import sagemaker_data_capture_kms, sagemaker_job_storage_kms

__all__ = [
    "ADMIN_ACTIONS",
    "ADMIN_MANAGED_POLICY",
    "BUCKET_ACL_TYPES",
    "BUCKET_POLICY_TYPES",
    "BUCKET_TYPES",
    "DOMAINS",
    "ENDPOINT_CONFIG_TYPE",
    "IDENTITY_POLICY_TYPES",
    "KMS_SSE_ALGORITHMS",
    "POLICY_ATTACHMENT_TYPES",
    "PUBLIC_ACCESS_BLOCK_TYPES",
    "PUBLIC_ACCESS_FLAGS",
    "PUBLIC_CANNED_ACLS",
    "ROLE_TYPE",
    "ROLE_WRITES",
    "SSE_TYPES",
    "UNKNOWN",
    "Finding",
    "GuardedResource",
    "NeedsAccount",
    "Resource",
    "Rule",
    "RuleCheck",
    "Violation",
    "attached_to",
    "bucket_references",
    "check_all",
    "denies_plain_http",
    "guardrail",
    "has_instance_storage",
    "iam_cross_account_trust",
    "iam_no_admin_wildcards",
    "iam_no_service_wildcards",
    "iam_pass_role_conditioned",
    "iam_role_writes_need_boundary",
    "kms_encryption_at_rest",
    "rules",
    "s3_kms_encryption",
    "s3_no_public_access",
    "s3_public_access_block",
    "s3_tls_only",
    "sagemaker_data_capture_kms",
    "sagemaker_job_storage_kms",
]

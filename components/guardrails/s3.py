"""S3 rules: every bucket is KMS-encrypted, private and TLS-only; it changes when a bucket rule does.

Three of the rules judge a bucket by its companions (the encryption configuration, public access block
and bucket policy that target it), so they are stack rules: they need the bucket and its companions
together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from components.guardrails.core import UNKNOWN, Finding, Resource, RuleCheck, guardrail, of_type
from components.guardrails.values import as_list, is_true, statements

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)
BUCKET_ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_SSE_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")


# -- which resources configure a bucket -------------------------------------------------------
def bucket_references(bucket: Resource) -> set[str]:
    """Values a companion's `bucket` input takes when it points at `bucket`.

    In the mock engine a resource's id is "<resource name>-id". In AWS a bucket's id is its name, so
    after creation (and for buckets that already exist) companions carry the bucket's `bucket` input.
    """
    references = {f"{bucket.name}-id"}
    physical = bucket.inputs.get("bucket")
    if isinstance(physical, str) and physical:
        references.add(physical)
    return references


def attached_to(bucket: Resource, resources: Iterable[Resource], types: Sequence[str]) -> list[Resource]:
    """Resources of `types` whose `bucket` input points at `bucket`.

    Limit: in a real preview the id of a bucket not created yet is unknown. The policy pack then
    passes the engine's property dependencies, and a companion whose `bucket` input depends on the
    bucket's URN counts. Without either, the bucket is reported as missing the companion: the rules
    fail closed, never open.
    """
    references = bucket_references(bucket)
    urn = getattr(bucket, "urn", "")
    attached = []
    for candidate in of_type(resources, types):
        target = candidate.inputs.get("bucket")
        sources = getattr(candidate, "property_dependencies", {}).get("bucket", ())
        if (isinstance(target, str) and target in references) or (urn and urn in sources):
            attached.append(candidate)
    return attached


def bucket_companion_rule(
    name: str, description: str, *, companions: Sequence[str], satisfied: Callable[[Resource], bool], missing: str
) -> RuleCheck:
    """Declare rule `name`: every bucket has a companion of type `companions` that `satisfied` accepts;
    a bucket without one is reported with the message `missing`."""

    def find(resources: Sequence[Resource]) -> Iterator[Finding]:
        for bucket in of_type(resources, BUCKET_TYPES):
            if not any(satisfied(c) for c in attached_to(bucket, resources, companions)):
                yield bucket, missing

    return guardrail(name, description, scope="stack")(find)


# -- encryption -------------------------------------------------------------------------------
def _kms_sse(configuration: Resource) -> bool:
    entries = configuration.inputs.get("rules")
    if entries is UNKNOWN:
        return True
    for entry in as_list(entries):
        default = entry.get("applyServerSideEncryptionByDefault") if isinstance(entry, Mapping) else None
        if isinstance(default, Mapping) and (
            default.get("sseAlgorithm") in KMS_SSE_ALGORITHMS or default.get("sseAlgorithm") is UNKNOWN
        ):
            return True
    return False


s3_kms_encryption = bucket_companion_rule(
    "s3-kms-encryption",
    "Every S3 bucket has default encryption with a KMS key.",
    companions=SSE_TYPES,
    satisfied=_kms_sse,
    missing="has no BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms targeting it",
)


# -- public access block ----------------------------------------------------------------------
def _blocks_all_public_access(block: Resource) -> bool:
    return all(is_true(block.inputs.get(flag)) for flag in PUBLIC_ACCESS_FLAGS)


s3_public_access_block = bucket_companion_rule(
    "s3-public-access-block",
    "Every S3 bucket has a public access block with all four flags on.",
    companions=PUBLIC_ACCESS_BLOCK_TYPES,
    satisfied=_blocks_all_public_access,
    missing=f"has no BucketPublicAccessBlock with {', '.join(PUBLIC_ACCESS_FLAGS)} all true",
)


# -- TLS only ---------------------------------------------------------------------------------
def _principal_is_public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in as_list(value) for value in principal.values())
    return False


def _secure_transport_false(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    for operator in ("Bool", "BoolIfExists"):
        keys = condition.get(operator)
        if isinstance(keys, Mapping):
            for key, value in keys.items():
                if key.lower() == "aws:securetransport" and any(str(v).lower() == "false" for v in as_list(value)):
                    return True
    return False


def _covers_bucket_and_objects(resources: Any) -> bool:
    """A TLS deny must cover the bucket (listing) and its objects (reads and writes)."""
    arns = [r for r in as_list(resources) if isinstance(r, str)]
    if "*" in arns:
        return True
    return any(r.endswith("/*") for r in arns) and any(not r.endswith("/*") for r in arns)


def denies_plain_http(statement: Mapping[str, Any]) -> bool:
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    return (
        statement.get("Effect") == "Deny"
        and _principal_is_public(statement.get("Principal"))
        and ("s3:*" in actions or "*" in actions)
        and _secure_transport_false(statement.get("Condition"))
        and _covers_bucket_and_objects(statement.get("Resource"))
    )


def _tls_only(policy: Resource) -> bool:
    document = policy.inputs.get("policy")
    # Unknown in a preview when the policy names the bucket's ARN: judged again with real values on `up`.
    return document is UNKNOWN or any(denies_plain_http(s) for s in statements(document))


s3_tls_only = bucket_companion_rule(
    "s3-tls-only",
    "Every S3 bucket has a policy denying requests that do not use TLS.",
    companions=BUCKET_POLICY_TYPES,
    satisfied=_tls_only,
    missing='has no BucketPolicy denying s3:* to Principal "*" on the bucket and its objects'
    " when aws:SecureTransport is false",
)


# -- no public access -------------------------------------------------------------------------
@guardrail("s3-no-public-access", 'No bucket policy allows Principal "*"; no public canned ACL.', scope="resource")
def s3_no_public_access(resources: Sequence[Resource]) -> Iterator[Finding]:
    """No bucket policy allows Principal "*" (a condition does not make it private: name the principals)
    and no bucket uses a public canned ACL. Deny statements with "*" are fine (the TLS deny is one)."""
    for resource in of_type(resources, BUCKET_POLICY_TYPES + BUCKET_TYPES):
        for statement in statements(resource.inputs.get("policy")):
            if statement.get("Effect") == "Allow" and _principal_is_public(statement.get("Principal")):
                yield resource, f'statement {statement.get("Sid", "without Sid")} allows Principal "*"'
    for resource in of_type(resources, BUCKET_TYPES + BUCKET_ACL_TYPES):
        if resource.inputs.get("acl") in PUBLIC_CANNED_ACLS:
            yield resource, f"uses the public canned ACL {resource.inputs['acl']}"

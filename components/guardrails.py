"""Guardrails as code: the security rules every planned stack must pass; it changes when a rule changes.

Each rule is a plain function over planned resources (type, name, camelCase inputs as the engine sees
them) that returns `Violation`s. The same functions serve the offline `mlops plan` (the mock engine's
`PlannedResource`s) and the Pulumi policy pack in `policy_pack/` (resources translated from
pulumi-policy's arguments), so a rule is written once. Pure Python: no pulumi import.

Values that a real `pulumi preview` cannot know yet reach the rules as `UNKNOWN`. A rule gives them the
benefit of the doubt (a key ARN that is another resource's output is exactly what we want); `pulumi up`
checks again with real values, since resource policies run before each resource is created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, Literal, Protocol


# -- what the rules look at -------------------------------------------------------------------
class Resource(Protocol):
    """The least a rule needs. `PlannedResource` (mlops_cli.mocks) and `GuardedResource` fit.

    Two optional attributes are read when present: `urn`, and `property_dependencies` (input name ->
    URNs of the resources that input's value comes from; the policy pack fills it from the engine).
    """

    @property
    def type(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class GuardedResource:
    """A resource built by hand or translated from a policy engine."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    urn: str = ""
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class _Unknown:
    """A value the engine cannot know before the update (an output of a resource not created yet)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


@dataclass(frozen=True)
class Violation:
    rule: str
    resource_type: str
    resource_name: str
    message: str
    urn: str = ""

    def __str__(self) -> str:
        return f"[{self.rule}] {self.resource_type} {self.resource_name}: {self.message}"


RuleCheck = Callable[[Sequence[Resource]], list[Violation]]


@dataclass(frozen=True)
class Rule:
    """A named rule. `scope` says how the policy pack runs it: "resource" rules judge one resource at a
    time (before it is created), "stack" rules need several resources together (after the update)."""

    name: str
    description: str
    scope: Literal["resource", "stack"]
    check: RuleCheck


# -- resource types ---------------------------------------------------------------------------
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)
BUCKET_ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
ROLE_TYPE = "aws:iam/role:Role"
ENDPOINT_CONFIG_TYPE = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
# Identity policies (what a principal may do). Key, bucket and repository policies are resource
# policies: there "Resource": "*" means "this resource", so they are not judged by the wildcard rule.
IDENTITY_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
POLICY_ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_SSE_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
ADMIN_ACTIONS = ("*", "*:*", "iam:*")
ADMIN_MANAGED_POLICY = re.compile(r"arn:aws[\w-]*:iam::aws:policy/AdministratorAccess")

# SageMaker refuses a volume KMS key on instance types with local NVMe storage (the hardware encrypts
# it): families with a "d" after the generation (m5d, g4dn, p4de, c6id) and families that always have it.
_INSTANCE_STORAGE = re.compile(r"ml\.(?:[a-z]+\d[a-z]*d[a-z]*|g5|g6e?|gr6|p5e?n?|trn1n?)\..+")


# -- small value helpers ----------------------------------------------------------------------
def _present(value: Any) -> bool:
    """Set to something: an unknown value counts, since it is an output the engine fills in later."""
    return value is UNKNOWN or (value is not None and value != "" and value != {} and value != [])


def _true(value: Any) -> bool:
    return value is True or value is UNKNOWN


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _document(value: Any) -> Any:
    """A JSON document given as text (how policies and definitions travel) or already parsed; None when
    it is unknown or not JSON (the service would refuse it anyway)."""
    if isinstance(value, Mapping | list):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _statements(policy: Any) -> list[Mapping[str, Any]]:
    """A policy document's statements; IAM accepts one statement object as well as a list."""
    document = _document(policy)
    if not isinstance(document, Mapping):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, Mapping)]


def _violation(rule: str, resource: Resource, message: str) -> Violation:
    return Violation(rule, resource.type, resource.name, message, str(getattr(resource, "urn", "") or ""))


def _of_type(resources: Iterable[Resource], types: Sequence[str]) -> list[Resource]:
    return [r for r in resources if r.type in types]


def has_instance_storage(instance_type: Any) -> bool:
    return isinstance(instance_type, str) and bool(_INSTANCE_STORAGE.fullmatch(instance_type))


# -- the one "which resources configure this bucket" helper -----------------------------------
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
    for candidate in _of_type(resources, types):
        target = candidate.inputs.get("bucket")
        sources = getattr(candidate, "property_dependencies", {}).get("bucket", ())
        if (isinstance(target, str) and target in references) or (urn and urn in sources):
            attached.append(candidate)
    return attached


def _bucket_companion_rule(
    rule: str, types: Sequence[str], satisfied: Callable[[Resource], bool], missing: str
) -> RuleCheck:
    """A rule of the form "every bucket has a companion of `types` that `satisfied` accepts"."""

    def check(resources: Sequence[Resource]) -> list[Violation]:
        return [
            _violation(rule, bucket, missing)
            for bucket in _of_type(resources, BUCKET_TYPES)
            if not any(satisfied(c) for c in attached_to(bucket, resources, types))
        ]

    return check


# -- S3 ---------------------------------------------------------------------------------------
def _kms_sse(configuration: Resource) -> bool:
    rules = configuration.inputs.get("rules")
    if rules is UNKNOWN:
        return True
    for rule in _as_list(rules):
        default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
        if isinstance(default, Mapping) and (
            default.get("sseAlgorithm") in KMS_SSE_ALGORITHMS or default.get("sseAlgorithm") is UNKNOWN
        ):
            return True
    return False


def _blocks_all_public_access(block: Resource) -> bool:
    return all(_true(block.inputs.get(flag)) for flag in PUBLIC_ACCESS_FLAGS)


def _principal_is_public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in _as_list(value) for value in principal.values())
    return False


def _secure_transport_false(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    for operator in ("Bool", "BoolIfExists"):
        keys = condition.get(operator)
        if isinstance(keys, Mapping):
            for key, value in keys.items():
                if key.lower() == "aws:securetransport" and any(str(v).lower() == "false" for v in _as_list(value)):
                    return True
    return False


def _covers_bucket_and_objects(resources: Any) -> bool:
    """A TLS deny must cover the bucket (listing) and its objects (reads and writes)."""
    arns = [r for r in _as_list(resources) if isinstance(r, str)]
    if "*" in arns:
        return True
    return any(r.endswith("/*") for r in arns) and any(not r.endswith("/*") for r in arns)


def denies_plain_http(statement: Mapping[str, Any]) -> bool:
    actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
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
    return document is UNKNOWN or any(denies_plain_http(s) for s in _statements(document))


s3_kms_encryption = _bucket_companion_rule(
    "s3-kms-encryption",
    SSE_TYPES,
    _kms_sse,
    "has no BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms targeting it",
)
s3_public_access_block = _bucket_companion_rule(
    "s3-public-access-block",
    PUBLIC_ACCESS_BLOCK_TYPES,
    _blocks_all_public_access,
    f"has no BucketPublicAccessBlock with {', '.join(PUBLIC_ACCESS_FLAGS)} all true",
)
s3_tls_only = _bucket_companion_rule(
    "s3-tls-only",
    BUCKET_POLICY_TYPES,
    _tls_only,
    'has no BucketPolicy denying s3:* to Principal "*" on the bucket and its objects when aws:SecureTransport is false',
)


def s3_no_public_access(resources: Sequence[Resource]) -> list[Violation]:
    """No bucket policy allows Principal "*" (a condition does not make it private: name the principals)
    and no bucket uses a public canned ACL. Deny statements with "*" are fine (the TLS deny is one)."""
    rule = "s3-no-public-access"
    found: list[Violation] = []
    for resource in _of_type(resources, BUCKET_POLICY_TYPES + BUCKET_TYPES):
        for statement in _statements(resource.inputs.get("policy")):
            if statement.get("Effect") == "Allow" and _principal_is_public(statement.get("Principal")):
                sid = statement.get("Sid", "without Sid")
                found.append(_violation(rule, resource, f'statement {sid} allows Principal "*"'))
    for resource in _of_type(resources, BUCKET_TYPES + BUCKET_ACL_TYPES):
        if resource.inputs.get("acl") in PUBLIC_CANNED_ACLS:
            found.append(_violation(rule, resource, f"uses the public canned ACL {resource.inputs['acl']}"))
    return found


# -- encryption at rest of everything else ----------------------------------------------------
def _endpoint_volume_key_refused(inputs: Mapping[str, Any]) -> bool:
    """SageMaker refuses KmsKeyId when any variant is serverless or has instance storage."""
    variants = _as_list(inputs.get("productionVariants")) + _as_list(inputs.get("shadowProductionVariants"))
    return any(
        isinstance(v, Mapping) and (_present(v.get("serverlessConfig")) or has_instance_storage(v.get("instanceType")))
        for v in variants
    )


def _dynamodb_problem(inputs: Mapping[str, Any]) -> str | None:
    sse = inputs.get("serverSideEncryption")
    if sse is UNKNOWN:
        return None
    sse = sse if isinstance(sse, Mapping) else {}
    if _true(sse.get("enabled")) and _present(sse.get("kmsKeyArn")):
        return None
    return "serverSideEncryption must be enabled with a kmsKeyArn (a customer managed key)"


def _missing(key: str, what: str) -> Callable[[Mapping[str, Any]], str | None]:
    return lambda inputs: None if _present(inputs.get(key)) else f"{key} is not set: {what}"


def _endpoint_config_problem(inputs: Mapping[str, Any]) -> str | None:
    if _present(inputs.get("kmsKeyArn")) or _endpoint_volume_key_refused(inputs):
        return None
    return "kmsKeyArn is not set: the ML storage volumes of the endpoint are not encrypted with KMS"


def _ecr_problem(inputs: Mapping[str, Any]) -> str | None:
    configurations = inputs.get("encryptionConfigurations")
    if configurations is UNKNOWN or any(
        isinstance(c, Mapping) and c.get("encryptionType") in ("KMS", "KMS_DSSE", UNKNOWN)
        for c in _as_list(configurations)
    ):
        return None
    return "encryptionConfigurations must use encryptionType KMS (images are AES256 by default)"


def _codepipeline_problem(inputs: Mapping[str, Any]) -> str | None:
    def encrypted(store: Any) -> bool:
        key = store.get("encryptionKey") if isinstance(store, Mapping) else UNKNOWN
        return key is UNKNOWN or (isinstance(key, Mapping) and _present(key.get("id")))

    stores = inputs.get("artifactStores")
    if stores is UNKNOWN or all(encrypted(s) for s in _as_list(stores)):
        return None
    return "every artifact store needs an encryptionKey (a KMS key)"


_ENCRYPTION_AT_REST: Mapping[str, Callable[[Mapping[str, Any]], str | None]] = {
    "aws:sns/topic:Topic": _missing("kmsMasterKeyId", "messages are stored unencrypted"),
    "aws:sqs/queue:Queue": _missing("kmsMasterKeyId", "messages are not encrypted with KMS"),
    "aws:cloudwatch/logGroup:LogGroup": _missing("kmsKeyId", "log events are not encrypted with KMS"),
    "aws:codebuild/project:Project": _missing("encryptionKey", "build artifacts use the AWS managed S3 key"),
    "aws:dynamodb/table:Table": _dynamodb_problem,
    ENDPOINT_CONFIG_TYPE: _endpoint_config_problem,
    "aws:ecr/repository:Repository": _ecr_problem,
    "aws:codepipeline/pipeline:Pipeline": _codepipeline_problem,
}


def kms_encryption_at_rest(resources: Sequence[Resource]) -> list[Violation]:
    """Topics, queues, log groups, tables, endpoint configs, repositories, builds and pipelines use KMS."""
    found: list[Violation] = []
    for resource in resources:
        check = _ENCRYPTION_AT_REST.get(resource.type)
        problem = check(resource.inputs) if check else None
        if problem:
            found.append(_violation("kms-encryption-at-rest", resource, problem))
    return found


# -- SageMaker job storage (training, tuning, transform, processing, monitoring, autopilot) ------
# API shapes (PascalCase in JSON documents, camelCase in pulumi-aws inputs) -> the KMS key they need.
_OUTPUT_SHAPES = (
    "OutputDataConfig",
    "OutputConfig",
    "TransformOutput",
    "ProcessingOutputConfig",
    "MonitoringOutputConfig",
    "DataQualityJobOutputConfig",
    "ModelQualityJobOutputConfig",
    "ModelBiasJobOutputConfig",
    "ModelExplainabilityJobOutputConfig",
)
_VOLUME_SHAPES = ("ResourceConfig", "HyperParameterTuningResourceConfig", "ClusterConfig", "TransformResources")


def _both_cases(names: Sequence[str]) -> frozenset[str]:
    return frozenset(n for name in names for n in (name, name[0].lower() + name[1:]))


_KEY_FIELD_BY_SHAPE: Mapping[str, str] = {
    **dict.fromkeys(_both_cases(_OUTPUT_SHAPES), "KmsKeyId"),
    **dict.fromkeys(_both_cases(_VOLUME_SHAPES), "VolumeKmsKeyId"),
    # AutoML's SecurityConfig; PascalCase only (a feature group's `securityConfig` is something else).
    "SecurityConfig": "VolumeKmsKeyId",
}


def _has_key_field(config: Mapping[str, Any], key_field: str) -> bool:
    """PascalCase or camelCase, or a Step Functions path (`KmsKeyId.$`) that fills it at run time."""
    camel = key_field[0].lower() + key_field[1:]
    return any(_present(config.get(name)) for name in (key_field, camel, f"{key_field}.$"))


def _instance_types(config: Mapping[str, Any]) -> list[Any]:
    groups = _as_list(config.get("InstanceGroups") or config.get("instanceGroups"))
    groups += _as_list(config.get("InstanceConfigs") or config.get("instanceConfigs"))
    singles = [config.get("InstanceType"), config.get("instanceType")]
    return singles + [g.get("InstanceType") or g.get("instanceType") for g in groups if isinstance(g, Mapping)]


def _keyed_configs(value: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every (key, mapping) pair at any depth: where the job shapes are found."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            if isinstance(child, Mapping):
                yield str(key), child
            yield from _keyed_configs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _keyed_configs(child)


def _sagemaker_tasks(definition: Any) -> Iterator[Any]:
    """The request parameters of each Step Functions task that calls SageMaker, nested states included."""
    for _, state in _keyed_configs({"root": definition}):
        resource = state.get("Resource")
        if isinstance(resource, str) and ":sagemaker:" in resource:
            yield state.get("Parameters") or state.get("Arguments")


def _job_documents(resource: Resource) -> Iterator[Any]:
    """Where job requests live: SageMaker resources' inputs, SageMaker pipeline definitions, SageMaker
    tasks of state machines, and SageMaker resources of CloudFormation templates."""
    if resource.type.startswith("aws:sagemaker/"):
        yield resource.inputs
        yield _document(resource.inputs.get("pipelineDefinition"))
    elif resource.type == "aws:sfn/stateMachine:StateMachine":
        yield from _sagemaker_tasks(_document(resource.inputs.get("definition")))
    elif resource.type == "aws:cloudformation/stack:Stack":
        template = _document(resource.inputs.get("templateBody"))
        parts = template.get("Resources") if isinstance(template, Mapping) else None
        for part in (parts or {}).values():
            if isinstance(part, Mapping) and str(part.get("Type", "")).startswith("AWS::SageMaker::"):
                yield part.get("Properties")


def _job_storage_problems(document: Any) -> Iterator[str]:
    for shape, config in _keyed_configs({"root": document}):
        key_field = _KEY_FIELD_BY_SHAPE.get(shape)
        if key_field is None or _has_key_field(config, key_field):
            continue
        if key_field == "VolumeKmsKeyId" and any(has_instance_storage(t) for t in _instance_types(config)):
            continue  # SageMaker refuses the key; the instance's NVMe storage is encrypted in hardware.
        yield f"{shape} has no {key_field}"


def sagemaker_job_storage_kms(resources: Sequence[Resource]) -> list[Violation]:
    """Job outputs and ML storage volumes name a KMS key wherever the job request has that part."""
    found: list[Violation] = []
    for resource in resources:
        problems = sorted({p for document in _job_documents(resource) for p in _job_storage_problems(document)})
        found.extend(_violation("sagemaker-job-storage-kms", resource, p) for p in problems)
    return found


def sagemaker_data_capture_kms(resources: Sequence[Resource]) -> list[Violation]:
    """Captured requests and responses (personal data, often) are encrypted with a customer key."""
    found: list[Violation] = []
    for config in _of_type(resources, (ENDPOINT_CONFIG_TYPE,)):
        capture = config.inputs.get("dataCaptureConfig")
        if isinstance(capture, Mapping) and not _present(capture.get("kmsKeyId")):
            found.append(_violation("sagemaker-data-capture-kms", config, "dataCaptureConfig has no kmsKeyId"))
    return found


# -- IAM --------------------------------------------------------------------------------------
def _identity_policies(resource: Resource) -> Iterator[tuple[str, Any]]:
    """(label, policy document) of each identity policy a resource carries."""
    if resource.type in IDENTITY_POLICY_TYPES:
        yield "policy", resource.inputs.get("policy")
    elif resource.type == ROLE_TYPE:
        for inline in _as_list(resource.inputs.get("inlinePolicies")):
            if isinstance(inline, Mapping):
                yield f"inline policy {inline.get('name', '')}".strip(), inline.get("policy")


def _admin_grant(statement: Mapping[str, Any]) -> str | None:
    """Why an Allow statement amounts to administrator access, or None."""
    if statement.get("Effect") != "Allow" or "*" not in _as_list(statement.get("Resource")):
        return None
    actions = {str(a).lower() for a in _as_list(statement.get("Action"))}
    broad = sorted(actions.intersection(ADMIN_ACTIONS))
    if broad:
        return f'allows {", ".join(broad)} on Resource "*"'
    if "NotAction" in statement:
        return 'allows everything but NotAction on Resource "*"'
    return None


def _admin_attachments(resource: Resource) -> Iterator[str]:
    arns = []
    if resource.type in POLICY_ATTACHMENT_TYPES:
        arns.append(resource.inputs.get("policyArn"))
    elif resource.type == ROLE_TYPE:
        arns.extend(_as_list(resource.inputs.get("managedPolicyArns")))
    for arn in arns:
        if isinstance(arn, str) and ADMIN_MANAGED_POLICY.fullmatch(arn):
            yield "attaches AdministratorAccess"


def iam_no_admin_wildcards(resources: Sequence[Resource]) -> list[Violation]:
    """No identity policy allows "*", "*:*" or "iam:*" (or NotAction) on Resource "*"; no AdministratorAccess."""
    rule = "iam-no-admin-wildcards"
    found: list[Violation] = []
    for resource in resources:
        for label, policy in _identity_policies(resource):
            for statement in _statements(policy):
                reason = _admin_grant(statement)
                if reason:
                    sid = statement.get("Sid", "without Sid")
                    found.append(_violation(rule, resource, f"{label}: statement {sid} {reason}"))
        found.extend(_violation(rule, resource, reason) for reason in _admin_attachments(resource))
    return found


_ACCOUNT_IN_PRINCIPAL = re.compile(r"(?:arn:aws[\w-]*:(?:iam|sts)::)?(\d{12})(?::.*)?")


def _trust_problems(statement: Mapping[str, Any], orchestrator_account: str) -> Iterator[str]:
    if statement.get("Effect") != "Allow":
        return
    if "NotPrincipal" in statement:
        yield "trusts every principal but those in NotPrincipal"
    principal = statement.get("Principal")
    principals = _as_list(principal.get("AWS")) if isinstance(principal, Mapping) else []
    if principal == "*" or "*" in principals:
        yield 'trusts Principal "*" (any AWS account)'
    for name in principals:
        match = _ACCOUNT_IN_PRINCIPAL.fullmatch(name) if isinstance(name, str) else None
        if match and match.group(1) != orchestrator_account:
            yield f"trusts account {match.group(1)}; only the orchestrator account ({orchestrator_account}) may"


def iam_cross_account_trust(resources: Sequence[Resource], orchestrator_account: str) -> list[Violation]:
    """A role trusted by AWS principals trusts the orchestrator account only, and never "*"."""
    found: list[Violation] = []
    for role in _of_type(resources, (ROLE_TYPE,)):
        for statement in _statements(role.inputs.get("assumeRolePolicy")):
            found.extend(
                _violation("iam-cross-account-trust", role, problem)
                for problem in _trust_problems(statement, orchestrator_account)
            )
    return found


# -- the catalogue ----------------------------------------------------------------------------
def rules(orchestrator_account: str) -> list[Rule]:
    """Every rule, bound to the orchestrator account (the only account roles may trust)."""
    return [
        Rule("s3-kms-encryption", "Every S3 bucket has default encryption with a KMS key.", "stack", s3_kms_encryption),
        Rule(
            "s3-public-access-block",
            "Every S3 bucket has a public access block with all four flags on.",
            "stack",
            s3_public_access_block,
        ),
        Rule(
            "s3-tls-only",
            "Every S3 bucket has a policy denying requests that do not use TLS.",
            "stack",
            s3_tls_only,
        ),
        Rule(
            "s3-no-public-access",
            'No bucket policy allows Principal "*"; no public canned ACL.',
            "resource",
            s3_no_public_access,
        ),
        Rule(
            "kms-encryption-at-rest",
            "Topics, queues, log groups, tables, endpoint configs, ECR, CodeBuild and CodePipeline use KMS.",
            "resource",
            kms_encryption_at_rest,
        ),
        Rule(
            "sagemaker-job-storage-kms",
            "SageMaker job outputs and ML storage volumes are encrypted with a KMS key.",
            "resource",
            sagemaker_job_storage_kms,
        ),
        Rule(
            "sagemaker-data-capture-kms",
            "Endpoint data capture is encrypted with a KMS key.",
            "resource",
            sagemaker_data_capture_kms,
        ),
        Rule(
            "iam-no-admin-wildcards",
            'No IAM policy allows "*", "*:*" or "iam:*" on Resource "*"; no AdministratorAccess.',
            "resource",
            iam_no_admin_wildcards,
        ),
        Rule(
            "iam-cross-account-trust",
            'Roles trust AWS principals of the orchestrator account only, never "*".',
            "resource",
            partial(iam_cross_account_trust, orchestrator_account=orchestrator_account),
        ),
    ]


def check_all(resources: Iterable[Resource], orchestrator_account: str) -> list[Violation]:
    """Every violation of every rule, in rule order."""
    planned = list(resources)
    return [violation for rule in rules(orchestrator_account) for violation in rule.check(planned)]

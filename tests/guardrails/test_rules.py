"""Each guardrail rule catches a deliberately bad resource and passes its good counterpart."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import policies
from components.guardrails import (
    BUCKET_TYPES,
    PUBLIC_ACCESS_FLAGS,
    UNKNOWN,
    GuardedResource,
    Violation,
    check_all,
    iam_cross_account_trust,
    iam_no_admin_wildcards,
    kms_encryption_at_rest,
    rules,
    s3_kms_encryption,
    s3_no_public_access,
    s3_public_access_block,
    s3_tls_only,
    sagemaker_data_capture_kms,
    sagemaker_job_storage_kms,
)
from mlops_cli.mocks import PlannedResource

ORCHESTRATOR = "111111111111"
KEY = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001"
BUCKET = BUCKET_TYPES[0]
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


def res(typ: str, name: str, /, **inputs: Any) -> PlannedResource:
    """A resource as the mock engine records it (camelCase inputs)."""
    return PlannedResource(typ, name, None, inputs, True, urn=f"urn:pulumi:dev::mlops::{typ}::{name}")


def sse_rules(algorithm: str = "aws:kms") -> list[dict[str, Any]]:
    return [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm, "kmsMasterKeyId": KEY}}]


def secure_bucket(name: str = "data", target: str | None = None, **replace: PlannedResource | None) -> list[Any]:
    """A bucket with its three companions, as components/secure_bucket.py makes them. `replace` swaps
    (or with None, drops) one companion: encryption, block or policy."""
    target = target or f"{name}-id"  # the mock engine's id of the bucket
    arn = f"arn:aws:s3:::{name}-physical"
    parts: dict[str, PlannedResource | None] = {
        "encryption": res(SSE, f"{name}-encryption", bucket=target, rules=sse_rules()),
        "block": res(BLOCK, f"{name}-public-access", bucket=target, **dict.fromkeys(PUBLIC_ACCESS_FLAGS, True)),
        "policy": res(BUCKET_POLICY, f"{name}-policy", bucket=target, policy=policies.tls_only_bucket_policy(arn)),
    }
    parts.update(replace)
    return [res(BUCKET, name, bucket=f"{name}-physical"), *(p for p in parts.values() if p is not None)]


def bucket_policy(*statements: dict[str, Any], name: str = "data") -> PlannedResource:
    arn = f"arn:aws:s3:::{name}-physical"
    return res(
        BUCKET_POLICY,
        f"{name}-policy",
        bucket=f"{name}-id",
        policy=policies.tls_only_bucket_policy(arn, list(statements)),
    )


def named(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.rule, v.resource_name) for v in violations]


# -- S3 -----------------------------------------------------------------------------------------
def test_a_secure_bucket_passes_every_rule() -> None:
    assert check_all(secure_bucket(), ORCHESTRATOR) == []


def test_bucket_without_encryption_configuration_is_caught() -> None:
    assert named(s3_kms_encryption(secure_bucket(encryption=None))) == [("s3-kms-encryption", "data")]


def test_bucket_encrypted_with_s3_managed_keys_is_caught() -> None:
    aes = res(SSE, "data-encryption", bucket="data-id", rules=sse_rules("AES256"))
    assert named(s3_kms_encryption(secure_bucket(encryption=aes))) == [("s3-kms-encryption", "data")]


def test_companions_of_another_bucket_do_not_count() -> None:
    resources = secure_bucket("logs") + secure_bucket("data", target="logs-id")
    for rule in (s3_kms_encryption, s3_public_access_block, s3_tls_only):
        assert [v.resource_name for v in rule(resources)] == ["data"]


def test_companions_naming_the_bucket_by_its_aws_id_count() -> None:
    # In AWS a bucket's id is its name: what a preview of an existing bucket shows.
    assert check_all(secure_bucket(target="data-physical"), ORCHESTRATOR) == []


def test_companions_with_unknown_bucket_match_through_property_dependencies() -> None:
    bucket = GuardedResource(BUCKET, "data", {"bucket": "data-physical"}, urn="urn:bucket")
    depends = {"bucket": ("urn:bucket",)}
    companions = [
        GuardedResource(SSE, "enc", {"bucket": UNKNOWN, "rules": sse_rules()}, "urn:enc", depends),
        GuardedResource(
            BLOCK, "pab", {"bucket": UNKNOWN, **dict.fromkeys(PUBLIC_ACCESS_FLAGS, True)}, "urn:pab", depends
        ),
        GuardedResource(BUCKET_POLICY, "pol", {"bucket": UNKNOWN, "policy": UNKNOWN}, "urn:pol", depends),
    ]
    assert check_all([bucket, *companions], ORCHESTRATOR) == []
    # Without the dependencies nothing says which bucket they configure: the rules fail closed.
    orphans = [GuardedResource(c.type, c.name, c.inputs, c.urn) for c in companions]
    assert {v.rule for v in check_all([bucket, *orphans], ORCHESTRATOR)} == {
        "s3-kms-encryption",
        "s3-public-access-block",
        "s3-tls-only",
    }


def test_bucket_without_public_access_block_is_caught() -> None:
    assert named(s3_public_access_block(secure_bucket(block=None))) == [("s3-public-access-block", "data")]


@pytest.mark.parametrize("flag", PUBLIC_ACCESS_FLAGS)
def test_public_access_block_with_one_flag_off_is_caught(flag: str) -> None:
    flags = {**dict.fromkeys(PUBLIC_ACCESS_FLAGS, True), flag: False}
    block = res(BLOCK, "data-public-access", bucket="data-id", **flags)
    assert named(s3_public_access_block(secure_bucket(block=block))) == [("s3-public-access-block", "data")]


def test_bucket_without_policy_is_not_tls_only() -> None:
    assert named(s3_tls_only(secure_bucket(policy=None))) == [("s3-tls-only", "data")]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"},
        # The deny must be conditioned on plain HTTP ("false"), not on TLS.
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ],
)
def test_policy_without_a_tls_deny_is_caught(statement: dict[str, Any]) -> None:
    document = policies.document({**statement, "Resource": ["arn:aws:s3:::d", "arn:aws:s3:::d/*"]})
    policy = res(BUCKET_POLICY, "data-policy", bucket="data-id", policy=document)
    assert named(s3_tls_only(secure_bucket(policy=policy))) == [("s3-tls-only", "data")]


def test_tls_deny_that_leaves_the_objects_out_is_caught() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::data-physical",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    policy = res(BUCKET_POLICY, "data-policy", bucket="data-id", policy=policies.document(deny))
    assert named(s3_tls_only(secure_bucket(policy=policy))) == [("s3-tls-only", "data")]


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111111111111:root", "*"]}])
def test_bucket_policy_allowing_everyone_is_caught(principal: Any) -> None:
    grant = {"Sid": "Everyone", "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}
    violations = s3_no_public_access(secure_bucket(policy=bucket_policy(grant)))
    assert [(v.rule, v.resource_name, v.message) for v in violations] == [
        ("s3-no-public-access", "data-policy", 'statement Everyone allows Principal "*"')
    ]


def test_bucket_policy_granting_a_named_account_is_not_public() -> None:
    grant = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "s3:GetObject"}
    assert s3_no_public_access(secure_bucket(policy=bucket_policy(grant))) == []


def test_public_canned_acl_is_caught() -> None:
    resources = [*secure_bucket(), res("aws:s3/bucketAcl:BucketAcl", "data-acl", bucket="data-id", acl="public-read")]
    assert named(s3_no_public_access(resources)) == [("s3-no-public-access", "data-acl")]


# -- encryption at rest -------------------------------------------------------------------------
ENCRYPTION_CASES = [
    ("aws:sns/topic:Topic", {"name": "t"}, {"name": "t", "kmsMasterKeyId": KEY}),
    ("aws:sqs/queue:Queue", {"name": "q"}, {"name": "q", "kmsMasterKeyId": KEY}),
    ("aws:cloudwatch/logGroup:LogGroup", {"name": "/l"}, {"name": "/l", "kmsKeyId": KEY}),
    ("aws:codebuild/project:Project", {"name": "b"}, {"name": "b", "encryptionKey": KEY}),
    (
        "aws:dynamodb/table:Table",
        {"serverSideEncryption": {"enabled": True}},  # the AWS owned key, not ours
        {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}},
    ),
    ("aws:dynamodb/table:Table", {"hashKey": "id"}, {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}}),
    (
        "aws:ecr/repository:Repository",
        {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
        {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]},
    ),
    (
        "aws:codepipeline/pipeline:Pipeline",
        {"artifactStores": [{"location": "b", "type": "S3"}]},
        {"artifactStores": [{"location": "b", "type": "S3", "encryptionKey": {"id": KEY, "type": "KMS"}}]},
    ),
    (
        ENDPOINT_CONFIG,
        {"productionVariants": [{"instanceType": "ml.m5.large"}]},
        {"productionVariants": [{"instanceType": "ml.m5.large"}], "kmsKeyArn": KEY},
    ),
]


@pytest.mark.parametrize(("typ", "bad", "good"), ENCRYPTION_CASES, ids=[c[0].split(":")[-1] for c in ENCRYPTION_CASES])
def test_unencrypted_resource_is_caught_and_encrypted_one_passes(
    typ: str, bad: dict[str, Any], good: dict[str, Any]
) -> None:
    assert named(kms_encryption_at_rest([res(typ, "bad", **bad)])) == [("kms-encryption-at-rest", "bad")]
    assert kms_encryption_at_rest([res(typ, "good", **good)]) == []


@pytest.mark.parametrize(
    "variant",
    [
        {"instanceType": "ml.g4dn.xlarge"},
        {"instanceType": "ml.m5d.large"},
        {"serverlessConfig": {"memorySizeInMb": 2048}},
    ],
)
def test_endpoint_config_may_omit_the_key_where_sagemaker_refuses_it(variant: dict[str, Any]) -> None:
    assert kms_encryption_at_rest([res(ENDPOINT_CONFIG, "config", productionVariants=[variant])]) == []


def test_key_that_is_unknown_during_preview_counts_as_set() -> None:
    topic = GuardedResource("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": UNKNOWN})
    assert kms_encryption_at_rest([topic]) == []


# -- SageMaker jobs and data capture --------------------------------------------------------------
def training_job(**overrides: Any) -> PlannedResource:
    inputs = {
        "outputDataConfig": {"s3OutputPath": "s3://b/out", "kmsKeyId": KEY},
        "resourceConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1, "volumeKmsKeyId": KEY},
        **overrides,
    }
    return res("aws:sagemaker/trainingJob:TrainingJob", "train", **inputs)


def test_training_job_with_keys_passes() -> None:
    assert sagemaker_job_storage_kms([training_job()]) == []


def test_training_job_without_output_key_is_caught() -> None:
    job = training_job(outputDataConfig={"s3OutputPath": "s3://b/out"})
    assert [v.message for v in sagemaker_job_storage_kms([job])] == ["outputDataConfig has no KmsKeyId"]


def test_training_job_without_volume_key_is_caught_unless_the_instance_has_local_storage() -> None:
    job = training_job(resourceConfig={"instanceType": "ml.m5.xlarge", "instanceCount": 1})
    assert [v.message for v in sagemaker_job_storage_kms([job])] == ["resourceConfig has no VolumeKmsKeyId"]
    nvme = training_job(resourceConfig={"instanceType": "ml.p4d.24xlarge", "instanceCount": 1})
    assert sagemaker_job_storage_kms([nvme]) == []


def state_machine(parameters: dict[str, Any], resource: str = "arn:aws:states:::sagemaker:createTransformJob.sync"):
    definition = {
        "StartAt": "Run",
        "States": {"Run": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}},
    }
    return res(STATE_MACHINE, "machine", definition=json.dumps(definition))


TRANSFORM = {
    "TransformOutput": {"S3OutputPath.$": "$.out", "KmsKeyId": KEY},
    "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeKmsKeyId": KEY},
}


def test_state_machine_sagemaker_task_with_keys_passes() -> None:
    assert sagemaker_job_storage_kms([state_machine(TRANSFORM)]) == []
    # A key filled in at run time from the execution input is a key.
    dynamic = {**TRANSFORM, "TransformOutput": {"S3OutputPath": "s3://b", "KmsKeyId.$": "$.key"}}
    assert sagemaker_job_storage_kms([state_machine(dynamic)]) == []


def test_state_machine_sagemaker_task_without_output_key_is_caught() -> None:
    parameters = {**TRANSFORM, "TransformOutput": {"S3OutputPath": "s3://b"}}
    violations = sagemaker_job_storage_kms([state_machine(parameters)])
    assert [(v.rule, v.resource_type, v.message) for v in violations] == [
        ("sagemaker-job-storage-kms", STATE_MACHINE, "TransformOutput has no KmsKeyId")
    ]


def test_processing_output_key_must_be_spelled_as_the_api_spells_it() -> None:
    # CreateProcessingJob's ProcessingOutputConfig takes KmsKeyId; "KmsKey" is not a field of it.
    parameters = {"ProcessingOutputConfig": {"KmsKey": KEY, "Outputs": []}}
    machine = state_machine(parameters, "arn:aws:states:::sagemaker:createProcessingJob.sync")
    assert [v.message for v in sagemaker_job_storage_kms([machine])] == ["ProcessingOutputConfig has no KmsKeyId"]


def test_tasks_that_do_not_call_sagemaker_are_not_judged() -> None:
    machine = state_machine({"OutputDataConfig": {}}, "arn:aws:states:::lambda:invoke")
    assert sagemaker_job_storage_kms([machine]) == []


def test_cloudformation_monitoring_job_definition_without_output_key_is_caught() -> None:
    template = {
        "Resources": {
            "JobDefinition": {
                "Type": "AWS::SageMaker::ModelBiasJobDefinition",
                "Properties": {
                    "ModelBiasJobOutputConfig": {"MonitoringOutputs": []},
                    "JobResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "VolumeKmsKeyId": KEY}},
                },
            },
            # Not a SageMaker resource: its ClusterConfig is OpenSearch's, which has no volume key.
            "Search": {"Type": "AWS::OpenSearchService::Domain", "Properties": {"ClusterConfig": {}}},
        }
    }
    stack = res("aws:cloudformation/stack:Stack", "bias", templateBody=json.dumps(template))
    assert [v.message for v in sagemaker_job_storage_kms([stack])] == ["ModelBiasJobOutputConfig has no KmsKeyId"]


def test_data_capture_without_key_is_caught_and_with_key_passes() -> None:
    capture = {
        "enableCapture": True,
        "destinationS3Uri": "s3://b/capture",
        "captureOptions": [{"captureMode": "Input"}],
    }
    variants = [{"instanceType": "ml.m5.large"}]
    bad = res(ENDPOINT_CONFIG, "bad", kmsKeyArn=KEY, productionVariants=variants, dataCaptureConfig=capture)
    good = res(
        ENDPOINT_CONFIG,
        "good",
        kmsKeyArn=KEY,
        productionVariants=variants,
        dataCaptureConfig={**capture, "kmsKeyId": KEY},
    )
    assert named(sagemaker_data_capture_kms([bad, good])) == [("sagemaker-data-capture-kms", "bad")]


# -- IAM ----------------------------------------------------------------------------------------
def role_policy(*statements: dict[str, Any], typ: str = ROLE_POLICY) -> PlannedResource:
    return res(typ, "policy", policy=policies.document(*statements))


@pytest.mark.parametrize("action", ["*", "*:*", "iam:*", "IAM:*", ["s3:GetObject", "*"]])
def test_admin_action_on_every_resource_is_caught(action: Any) -> None:
    bad = role_policy({"Effect": "Allow", "Action": action, "Resource": "*"})
    assert named(iam_no_admin_wildcards([bad])) == [("iam-no-admin-wildcards", "policy")]


def test_managed_policy_and_role_inline_policy_are_judged_too() -> None:
    managed = role_policy({"Effect": "Allow", "Action": "*", "Resource": ["*"]}, typ="aws:iam/policy:Policy")
    inline = {"name": "admin", "policy": policies.document({"Effect": "Allow", "Action": "*", "Resource": "*"})}
    role = res(ROLE, "role", assumeRolePolicy=policies.service_trust("lambda.amazonaws.com"), inlinePolicies=[inline])
    violations = iam_no_admin_wildcards([managed, role])
    assert [(v.resource_name, v.message) for v in violations] == [
        ("policy", 'policy: statement without Sid allows * on Resource "*"'),
        ("role", 'inline policy admin: statement without Sid allows * on Resource "*"'),
    ]


def test_not_action_on_every_resource_and_administrator_access_are_caught() -> None:
    not_action = role_policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    attachment = res(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "admin",
        role="r",
        policyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    assert named(iam_no_admin_wildcards([not_action, attachment])) == [
        ("iam-no-admin-wildcards", "policy"),
        ("iam-no-admin-wildcards", "admin"),
    ]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"},  # scoped resource
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},  # scoped action
        {"Effect": "Deny", "Action": "*", "Resource": "*"},  # denies are fine
    ],
)
def test_scoped_statements_pass(statement: dict[str, Any]) -> None:
    assert iam_no_admin_wildcards([role_policy(statement)]) == []


def test_key_policies_are_resource_policies_and_not_judged() -> None:
    key = res("aws:kms/key:Key", "key", policy=policies.kms_key_policy(ORCHESTRATOR, []))
    assert iam_no_admin_wildcards([key]) == []


def trusting(principal: Any, effect: str = "Allow") -> PlannedResource:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}],
    }
    return res(ROLE, "deploy", assumeRolePolicy=json.dumps(trust))


@pytest.mark.parametrize(
    ("principal", "problem"),
    [
        ({"AWS": "arn:aws:iam::999999999999:root"}, "trusts account 999999999999"),
        ({"AWS": "999999999999"}, "trusts account 999999999999"),
        (
            {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::999999999999:role/x"]},
            "trusts account 999999999999",
        ),
        ({"AWS": "*"}, 'trusts Principal "*"'),
        ("*", 'trusts Principal "*"'),
    ],
)
def test_role_trusting_anyone_but_the_orchestrator_is_caught(principal: Any, problem: str) -> None:
    violations = iam_cross_account_trust([trusting(principal)], ORCHESTRATOR)
    assert [v.rule for v in violations] == ["iam-cross-account-trust"]
    assert violations[0].message.startswith(problem)


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::111111111111:root"},
        {"AWS": "arn:aws:iam::111111111111:role/mlops-orch-provisioner"},
        {"Service": "sagemaker.amazonaws.com"},
    ],
)
def test_role_trusting_the_orchestrator_or_a_service_passes(principal: Any) -> None:
    assert iam_cross_account_trust([trusting(principal)], ORCHESTRATOR) == []


def test_real_cross_account_trust_helper_passes_and_deny_statements_are_ignored() -> None:
    role = res(ROLE, "deploy", assumeRolePolicy=policies.cross_account_trust(ORCHESTRATOR, "mlops-orch-"))
    assert iam_cross_account_trust([role, trusting({"AWS": "*"}, effect="Deny")], ORCHESTRATOR) == []
    assert [v.rule for v in iam_cross_account_trust([role], "222222222222")] == ["iam-cross-account-trust"]


# -- the catalogue ------------------------------------------------------------------------------
def test_check_all_runs_every_rule() -> None:
    """One bad resource per rule: check_all must report each rule at least once."""
    bad = [
        *secure_bucket("unencrypted", encryption=None),
        *secure_bucket("open", block=None),
        *secure_bucket("plain-http", policy=None),
        *secure_bucket(
            "public", policy=bucket_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*"}, name="public")
        ),
        res("aws:sns/topic:Topic", "topic"),
        training_job(outputDataConfig={}),
        res(ENDPOINT_CONFIG, "capture", kmsKeyArn=KEY, dataCaptureConfig={"enableCapture": True}),
        role_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        trusting({"AWS": "arn:aws:iam::999999999999:root"}),
    ]
    reported = {v.rule for v in check_all(bad, ORCHESTRATOR)}
    assert reported == {rule.name for rule in rules(ORCHESTRATOR)}
    assert len(rules(ORCHESTRATOR)) == 9


def test_violation_reads_as_one_line() -> None:
    violation = s3_kms_encryption(secure_bucket(encryption=None))[0]
    assert str(violation).startswith("[s3-kms-encryption] aws:s3/bucket:Bucket data: has no")
    assert violation.urn == "urn:pulumi:dev::mlops::aws:s3/bucket:Bucket::data"


@pytest.mark.parametrize(
    "instance_type",
    [
        "ml.m5.large",
        "ml.m5d.xlarge",
        "ml.c5n.2xlarge",
        "ml.g4dn.xlarge",
        "ml.g5.2xlarge",
        "ml.p4d.24xlarge",
        "ml.inf2.xlarge",
    ],
)
def test_instance_storage_agrees_with_the_components_that_omit_the_volume_key(instance_type: str) -> None:
    """The rule's exemption and the components' decision to omit the key must never drift apart."""
    from components.guardrails import has_instance_storage
    from components.pipelines.served_model import has_instance_storage as components_decide

    assert has_instance_storage(instance_type) == components_decide(instance_type)

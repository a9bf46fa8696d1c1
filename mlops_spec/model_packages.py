"""Model package versions of the model registry, for deploys on approval. Pure Python.

A served model may follow its model package group (`deploy_on_approval`): each newer version that is
Approved in the registry is deployed through the normal update path; a version never replaces a
newer one. A version is named by its ARN, `arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<n>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The orchestrator's own group (mlops_spec/naming.py), where every training pipeline registers its
# models: a pipeline may not follow it, or approving one team's model would deploy it to another's endpoint.
SHARED_MODEL_PACKAGE_GROUP = "mlops-models"

_VERSION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9-]{1,63})/(?P<version>\d+)$"
)


@dataclass(frozen=True)
class PackageVersion:
    arn: str
    account: str
    region: str
    group: str
    version: int

    def same_group(self, other: PackageVersion) -> bool:
        return (self.account, self.region, self.group.lower()) == (other.account, other.region, other.group.lower())

    def supersedes(self, other: PackageVersion) -> bool:
        """A newer version of the same group: the only kind that may replace a deployed one."""
        return self.same_group(other) and self.version > other.version


def package_version(arn: str | None) -> PackageVersion | None:
    """The version an ARN names; None for anything else (a group ARN, an unversioned name)."""
    found = _VERSION_ARN.match(arn or "")
    if found is None:
        return None
    return PackageVersion(
        arn=str(arn),
        account=found["account"],
        region=found["region"],
        group=found["group"],
        version=int(found["version"]),
    )

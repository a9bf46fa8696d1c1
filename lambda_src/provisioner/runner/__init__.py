"""Running Pulumi stacks for the provisioner: the public face of the runner package.

Changes only when a name moves between the modules below or joins the package's public names:
- `interface`: the StackRunner protocol and UpOutcome, what callers program against;
- `retry`: how long to wait for another update's lock, per kind of stack;
- `faults`: what a CLI failure means (plain functions) and which ProvisioningError it becomes;
- `workspace`: where stacks live and the CLI's environment;
- `automation`: the StackRunner over the Automation API.
"""

from lambda_src.provisioner.runner.automation import AutomationStackRunner
from lambda_src.provisioner.runner.faults import (
    PENDING_URNS_SHOWN,
    Failure,
    FailureKind,
    PendingOperation,
    Remedy,
    classify,
    domain_error,
    failure_of,
    lock_is_stale,
    pending_creates,
    pending_creates_error,
    pending_operations,
    remedy_for,
    still_locked_error,
)
from lambda_src.provisioner.runner.interface import (
    DriftedResource,
    DriftReport,
    OnOutput,
    PulumiProgram,
    StackRunner,
    UpOutcome,
)
from lambda_src.provisioner.runner.retry import (
    DELIVERY_RETRY,
    TARGET_RETRY,
    TEARDOWN_DELIVERY_RETRY,
    RetryPolicy,
    locks_dead_before,
)
from lambda_src.provisioner.runner.workspace import RunnerConfig, prepare_pulumi_home, workspace_options

__all__ = [
    "DELIVERY_RETRY",
    "PENDING_URNS_SHOWN",
    "TARGET_RETRY",
    "TEARDOWN_DELIVERY_RETRY",
    "AutomationStackRunner",
    "DriftReport",
    "DriftedResource",
    "Failure",
    "FailureKind",
    "OnOutput",
    "PendingOperation",
    "PulumiProgram",
    "Remedy",
    "RetryPolicy",
    "RunnerConfig",
    "StackRunner",
    "UpOutcome",
    "classify",
    "domain_error",
    "failure_of",
    "lock_is_stale",
    "locks_dead_before",
    "pending_creates",
    "pending_creates_error",
    "pending_operations",
    "prepare_pulumi_home",
    "remedy_for",
    "still_locked_error",
    "workspace_options",
]

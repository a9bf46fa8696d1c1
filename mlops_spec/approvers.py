"""Separation of duties (issue 10, point 5): who may answer a manual approval, and who is the same person.

The stack config names approvers per environment (`mlops:approvers`) and whether a version's
requester may approve its own promotion to prod (`mlops:allowRequesterApproval`); the orchestrator
hands both to its API function as one environment variable (`ApprovalRules`), which the API applies
before it answers CodePipeline. Pure Python: the stack config, the components and the API read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_spec.environments import ENVIRONMENTS
from mlops_spec.partitions import SUPPORTED_PARTITIONS

# The environments a manual approval promotes into (every one after the first: dev has none).
APPROVAL_ENVIRONMENTS: tuple[str, ...] = ENVIRONMENTS[1:]
_ENVIRONMENTS = ", ".join(APPROVAL_ENVIRONMENTS)
# Where, by default, the principal that requested a version may not approve its promotion.
GUARDED_ENVIRONMENT = "prod"
# More approvers than this per environment is a group's job (one role that several people assume).
MAX_APPROVERS = 50

_PARTITION = f"({'|'.join(SUPPORTED_PARTITIONS)})"
_NAME = r"[\w+=,.@-]{1,128}"
# IAM role and user ARNs, with an optional path: arn:aws:iam::123456789012:role/ops/Approver.
_PRINCIPAL_ARN = re.compile(rf"arn:{_PARTITION}:iam::(\d{{12}}):(role|user)/(?:[\w+=,.@-]+/)*({_NAME})")
# What a caller of the API who assumed a role is: arn:aws:sts::123456789012:assumed-role/Approver/alice.
_SESSION_ARN = re.compile(rf"arn:{_PARTITION}:sts::(\d{{12}}):assumed-role/({_NAME})/[\w+=,.@-]{{2,64}}")
_ARN_FORMS = "arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>"
# IAM unique ids of users and roles (every other principal id is not one identity's own).
_UNIQUE_ID_PREFIXES = ("AIDA", "AROA")


@dataclass(frozen=True)
class PrincipalKey:
    """One IAM identity, whichever ARN names it: a role and every session of it are one key (a session
    name is whatever the one who assumes the role chooses). Paths are left out: a session ARN has none.
    The name is kept in lower case: IAM role and user names are unique regardless of case, so
    `role/reviewer` and `role/Reviewer` cannot be two identities of one account."""

    partition: str
    account: str
    kind: str  # role | user
    name: str


def principal_key(arn: str | None) -> PrincipalKey | None:
    """The identity a role, user or assumed-role session ARN names; None for anything else (root,
    federated users, services: compared by their full ARN, see same_principal)."""
    if not arn:
        return None
    if found := _PRINCIPAL_ARN.fullmatch(arn):
        return PrincipalKey(found[1], found[2], found[3], found[4].lower())
    if found := _SESSION_ARN.fullmatch(arn):
        return PrincipalKey(found[1], found[2], "role", found[3].lower())
    return None


def approver_arn_problem(value: Any) -> str | None:
    """Why `value` cannot name an approver in the stack config; None when it is a role or user ARN."""
    if isinstance(value, str) and _PRINCIPAL_ARN.fullmatch(value):
        return None
    if isinstance(value, str) and _SESSION_ARN.fullmatch(value):
        return f"is an assumed-role session ARN: name its role instead ({_ARN_FORMS})"
    return f"must be an IAM role or user ARN ({_ARN_FORMS})"


class ApproversProblem(ValueError):
    """A malformed `mlops:approvers` value: `where` is the path inside it (`prod[1]`), `problem` what is wrong."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem


def check_approvers(raw: Any) -> dict[str, tuple[str, ...]]:
    """`{environment: [ARN, ...]}` as validated approvers, or ApproversProblem naming the first bad entry."""
    if not isinstance(raw, Mapping):
        raise ApproversProblem("", f"must map {' and/or '.join(APPROVAL_ENVIRONMENTS)} to lists of principal ARNs")
    checked: dict[str, tuple[str, ...]] = {}
    for env, arns in raw.items():
        environment = _checked_environment(env)
        checked[environment] = _checked_arns(environment, arns)
    return checked


def _checked_environment(env: Any) -> str:
    if env in APPROVAL_ENVIRONMENTS:
        return str(env)
    if env in ENVIRONMENTS:
        problem = f"has no manual approval (approvals promote into {', '.join(APPROVAL_ENVIRONMENTS)})"
    else:
        problem = f"is not an environment with a manual approval (one of {', '.join(APPROVAL_ENVIRONMENTS)})"
    raise ApproversProblem(str(env), problem)


def _checked_arns(env: str, arns: Any) -> tuple[str, ...]:
    if not isinstance(arns, list | tuple) or not arns:
        # An empty list would let nobody promote: leaving the environment out is what lets anyone.
        raise ApproversProblem(env, "must be a non-empty list of principal ARNs (leave it out to allow any caller)")
    if len(arns) > MAX_APPROVERS:
        raise ApproversProblem(env, f"must name at most {MAX_APPROVERS} principals (use a role they share)")
    for index, arn in enumerate(arns):
        problem = approver_arn_problem(arn)
        if problem:
            raise ApproversProblem(f"{env}[{index}]", problem)
    return tuple(dict.fromkeys(arns))


# -- callers and requesters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who sent a request, as AWS told us: the caller's ARN (API Gateway's `userArn`) and/or its principal
    id (`AIDA...` for a user, `AROA...:<session>` for a role's session; S3 events give only this)."""

    arn: str | None = None
    principal_id: str | None = None

    @property
    def known(self) -> bool:
        """Whether the principal can be compared with another: it has an ARN or an IAM unique id. A
        principal id that is neither (a federated user's `<account>:<name>`, the root user's account
        id) names no one in particular."""
        return bool(self.arn or self.unique_id)

    @property
    def unique_id(self) -> str | None:
        """The IAM unique id without the session name: every session of a role shares its role's id.
        Only a user's (`AIDA…`) or a role's (`AROA…`): the principal id of a federated user or of the
        root user starts with the account id, which every principal of the account shares."""
        if not self.principal_id:
            return None
        unique = self.principal_id.removeprefix("AWS:").split(":", 1)[0]
        return unique if unique.startswith(_UNIQUE_ID_PREFIXES) else None

    def label(self) -> str | None:
        """How an answer names the principal: its ARN, else its principal id."""
        return self.arn or self.principal_id

    def as_dict(self) -> dict[str, str]:
        """The registry's map (absent parts left out)."""
        return {key: value for key, value in (("arn", self.arn), ("principal_id", self.principal_id)) if value}

    @classmethod
    def from_dict(cls, value: Any) -> Principal:
        if not isinstance(value, Mapping):
            return cls()
        arn, principal_id = value.get("arn"), value.get("principal_id")
        return cls(arn if isinstance(arn, str) else None, principal_id if isinstance(principal_id, str) else None)


def same_principal(a: Principal, b: Principal) -> bool:
    """True when any identifier both carry names one identity: the unique id (a role recreated under
    the same name gets a new one), the identity its ARN names (a role and its sessions are one), or,
    for the principals no key names (federated users, root), the full ARN."""
    if a.unique_id and a.unique_id == b.unique_id:
        return True
    if a.arn and a.arn == b.arn:
        return True
    key = principal_key(a.arn)
    return key is not None and key == principal_key(b.arn)


def is_approver(caller: Principal, approvers: tuple[str, ...]) -> bool:
    """The caller is one of the approver ARNs (a role's ARN admits every session of that role)."""
    key = principal_key(caller.arn)
    return key is not None and any(principal_key(arn) == key for arn in approvers)


# -- the rules the API function applies ------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRules:
    """`approvers`: per environment, who may answer its approval (an environment left out: anyone IAM lets
    call the API). `requester_may_approve`: whether a version's requester may approve its promotion to prod."""

    approvers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    requester_may_approve: bool = False

    def to_json(self) -> str:
        """The environment variable's value (stable order, so an unchanged config plans no change)."""
        approvers = {env: list(arns) for env, arns in sorted(self.approvers.items())}
        return json.dumps({"approvers": approvers, "requester_may_approve": self.requester_may_approve}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ApprovalRules:
        """The rules an environment variable holds; ValueError when it does not hold valid rules."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not JSON ({exc.msg})") from None
        if not isinstance(data, dict) or set(data) - {"approvers", "requester_may_approve"}:
            raise ValueError('must be {"approvers": {...}, "requester_may_approve": true|false}')
        may = data.get("requester_may_approve", False)
        if not isinstance(may, bool):
            raise ValueError("requester_may_approve must be true or false")
        return cls(check_approvers(data.get("approvers", {})), may)

    def refusals(
        self,
        environment: str | None,
        decision: str,
        caller: Principal,
        requester: Principal,
        barred: tuple[Principal, ...] = (),
    ) -> list[str]:
        """Why `caller` may not give `decision` on the approval promoting into `environment` (empty: it may).
        An approval that promotes into no environment of ours (None) is refused: no rule could be checked.
        `barred`: who else the requester rule bars (the requester of the version a rollback sends again)."""
        if environment is None or environment not in APPROVAL_ENVIRONMENTS:
            return [f"promotes into no environment with approval rules ({_ENVIRONMENTS}): none could be checked"]
        problems = []
        approvers = self.approvers.get(environment)
        if approvers and not is_approver(caller, approvers):
            problems.append(f"is not an approver of {environment}")
        if environment == GUARDED_ENVIRONMENT and decision == "approve" and not self.requester_may_approve:
            problems += _requester_refusals(environment, caller, requester)
            if caller.known and any(same_principal(caller, other) for other in barred):
                problems.append(
                    f"requested the version this one sends again: they cannot approve its promotion to {environment}"
                )
        return problems


def _requester_refusals(environment: str, caller: Principal, requester: Principal) -> list[str]:
    """Why `caller` may not approve a promotion into the guarded `environment` under the requester rule.
    A version whose requester is not recorded cannot be told apart from anyone's: refused for everyone
    (it would otherwise let the requester through, as anyone else)."""
    if not requester.known:
        return [
            f"cannot approve the promotion to {environment}: the requester of this version is not recorded, so "
            "it cannot be told apart from the caller; send the same request again through the API (its sender "
            "is recorded as the requester), or answer the approval in CodePipeline under IAM"
        ]
    if not caller.known:
        return ["is unidentified: it cannot be told apart from the requester of this version"]
    if same_principal(caller, requester):
        return [f"requested this version: a requester cannot approve their own promotion to {environment}"]
    return []

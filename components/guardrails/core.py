"""Declaring and running rules: resource view, `Violation`, registry, `check_all`; changes when that machinery does.

A rule is a function over planned resources (type, name, camelCase inputs as the engine sees them)
that yields findings, a resource and what is wrong with it. `guardrail` declares it where it is
written: the rule's id, description and scope sit on the function, and turn its findings into
`Violation`s. `mlops plan` (the mock engine's `PlannedResource`s) and the Pulumi policy pack in
`policy_pack/` (resources translated from pulumi-policy's arguments) both read this one registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial, update_wrapper
from importlib import import_module
from typing import Any, Final, Literal, ParamSpec, Protocol

P = ParamSpec("P")
Scope = Literal["resource", "stack"]


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
    """A value the engine cannot know before the update (an output of a resource not created yet).

    Rules give it the benefit of the doubt (a key ARN that is another resource's output is exactly what
    we want); `pulumi up` checks again with real values, since resource policies run before each
    resource is created.
    """

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


def of_type(resources: Iterable[Resource], types: Sequence[str]) -> list[Resource]:
    return [r for r in resources if r.type in types]


# -- what the rules report --------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    rule: str
    resource_type: str
    resource_name: str
    message: str
    urn: str = ""

    def __str__(self) -> str:
        return f"[{self.rule}] {self.resource_type} {self.resource_name}: {self.message}"


def violation(rule: str, resource: Resource, message: str) -> Violation:
    return Violation(rule, resource.type, resource.name, message, str(getattr(resource, "urn", "") or ""))


Finding = tuple[Resource, str]
"""What a rule's check yields: a resource and what is wrong with it (the rule adds its own id)."""

RuleCheck = Callable[[Sequence[Resource]], list[Violation]]


# -- the rules --------------------------------------------------------------------------------
@dataclass(frozen=True)
class NeedsAccount:
    """A rule judged against the orchestrator account (the only account roles may trust).

    Without that account (a policy pack run with no config) such a rule must not pass silently:
    each resource of `types` is reported as not judged, `what` saying what was not judged.
    """

    types: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class Rule:
    """A named rule, its check bound to the orchestrator account. `scope` says how the policy pack runs
    it: "resource" rules judge one resource at a time (before it is created), "stack" rules need
    several resources together (after the update)."""

    name: str
    description: str
    scope: Scope
    check: RuleCheck
    needs_account: NeedsAccount | None = None


@dataclass(frozen=True)
class _Declaration:
    """A rule as declared: its check takes `orchestrator_account` when it `needs_account`."""

    name: str
    description: str
    scope: Scope
    check: Callable[..., list[Violation]]
    needs_account: NeedsAccount | None
    domain: str

    def bound(self, orchestrator_account: str) -> Rule:
        check = self.check
        if self.needs_account is not None:
            check = partial(check, orchestrator_account=orchestrator_account)
        return Rule(self.name, self.description, self.scope, check, self.needs_account)


# The modules that declare rules, in the order their rules run and report: `mlops plan` lists
# violations in this order and the policy pack its policies. Within a module, rules keep the order
# they are written in. Import order cannot give this (the package's imports are sorted by name).
DOMAINS = ("s3", "encryption", "sagemaker", "iam")
_DECLARED: list[_Declaration] = []  # filled as the domain modules are imported


def guardrail(
    name: str, description: str, *, scope: Scope, needs_account: NeedsAccount | None = None
) -> Callable[[Callable[P, Iterable[Finding]]], Callable[P, list[Violation]]]:
    """Declare the decorated check as rule `name`: the function then returns the rule's `Violation`s.

    The check of a rule that `needs_account` takes an `orchestrator_account` keyword argument.
    """
    if any(declared.name == name for declared in _DECLARED):
        raise ValueError(f"guardrail {name} is declared twice")

    def declare(find: Callable[P, Iterable[Finding]]) -> Callable[P, list[Violation]]:
        def check(*args: P.args, **kwargs: P.kwargs) -> list[Violation]:
            return [violation(name, resource, message) for resource, message in find(*args, **kwargs)]

        # The check keeps the rule function's name and docstring, not its annotations (it returns a list).
        update_wrapper(check, find, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        domain = _domain_of(find)
        _DECLARED.append(_Declaration(name, description, scope, check, needs_account, domain))
        return check

    return declare


def _domain_of(find: Callable[..., Any]) -> str:
    package, _, domain = find.__module__.rpartition(".")
    if package != __package__ or domain not in DOMAINS:
        raise ValueError(f"{find.__module__} declares a guardrail: add it to DOMAINS in {__name__}")
    return domain


def rules(orchestrator_account: str) -> list[Rule]:
    """Every rule, in the order of DOMAINS, bound to the orchestrator account."""
    for domain in DOMAINS:  # importing a domain module declares its rules, once
        import_module(f"{__package__}.{domain}")
    ordered = sorted(_DECLARED, key=lambda declared: DOMAINS.index(declared.domain))
    return [declared.bound(orchestrator_account) for declared in ordered]


def check_all(resources: Iterable[Resource], orchestrator_account: str) -> list[Violation]:
    """Every violation of every rule, in rule order."""
    planned = list(resources)
    return [found for rule in rules(orchestrator_account) for found in rule.check(planned)]

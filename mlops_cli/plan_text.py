"""A plan as text a person reads in a terminal: the resource tree (a request's pipeline first), the
stack's outputs and a closing summary; lines fit the width and break between words, never inside a
name. Deterministic: the same plan prints the same text."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mlops_cli.plan_cost import cost_lines
from mlops_spec.base import PipelineSpec

if TYPE_CHECKING:
    from mlops_cli.mocks import PlannedResource
    from mlops_cli.planner import StackPlan

INDENT = "  "
_KEEP_TOGETHER = "\xa0"  # a space textwrap does not break at: a type and its count stay on one line


def short_type(token: str) -> str:
    """`aws:iam/rolePolicy:RolePolicy` -> `iam/RolePolicy`; a component's `mlops:orchestrator:Orchestrator`
    -> `Orchestrator`: enough to tell resources apart in a terminal (the JSON plan keeps the token)."""
    package, _, rest = token.partition(":")
    module, _, name = rest.rpartition(":")
    if package == "mlops" or not module:
        return name or token
    return f"{module.split('/')[0]}/{name}"


def fitted(left: str, right: str, width: int, indent: str = "", hang: str = INDENT * 2) -> list[str]:
    """`left` and `right` on one line when they fit, otherwise `right` on the next line, indented by `hang`."""
    line = f"{indent}{left}  {right}"
    if len(line) <= width:
        return [line]
    return [f"{indent}{left}", f"{indent}{hang}{right}"]


def wrapped(text: str, width: int, indent: str) -> list[str]:
    """Prose broken between words (a name longer than the line stays whole)."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent + INDENT,
        break_long_words=False,
        break_on_hyphens=False,
    )


def in_columns(cells: list[tuple[str, int]], width: int, indent: str) -> list[str]:
    """`name  count` cells in as many columns as the width holds, read down then across; each
    column as wide as its longest cell, counts aligned."""
    for columns in range(max(1, min(4, len(cells))), 0, -1):
        rows = -(-len(cells) // columns)
        groups = [cells[start : start + rows] for start in range(0, len(cells), rows)]
        texts = [_aligned(group) for group in groups]
        widths = [max(len(text) for text in column) for column in texts]
        if columns == 1 or len(indent) + sum(widths) + 3 * (len(widths) - 1) <= width:
            return [
                indent
                + "   ".join(
                    column[row].ljust(w) for column, w in zip(texts, widths, strict=True) if row < len(column)
                ).rstrip()
                for row in range(rows)
            ]
    return []


def per_service(types: Counter[str], width: int, indent: str) -> list[str]:
    """`s3: Bucket 5, BucketPolicy 5, ...`: one wrapped line per service, services and types sorted."""
    services: dict[str, list[str]] = {}
    for typ, count in sorted(types.items()):
        service, _, name = typ.rpartition("/")
        services.setdefault(service or "other", []).append(f"{name}{_KEEP_TOGETHER}{count}")
    texts = (f"{service}: {', '.join(items)}" for service, items in services.items())
    return [line.replace(_KEEP_TOGETHER, " ") for text in texts for line in wrapped(text, width, indent)]


def _aligned(cells: list[tuple[str, int]]) -> list[str]:
    name_width = max(len(name) for name, _ in cells)
    count_width = max(len(str(count)) for _, count in cells)
    return [f"{name.ljust(name_width)}  {count:>{count_width}}" for name, count in cells]


@dataclass
class PlanText:
    plan: StackPlan
    width: int = 80

    def lines(self, only_request: bool = False) -> list[str]:
        roots = self._roots(only_request)
        shown = sum(1 for root in roots for _ in self._subtree(root))
        lines = [f"stack {self.plan.stack}: {shown} resources", ""]
        for root in roots:
            lines += self._tree(root, 0)
        if not only_request:
            lines += ["", "outputs:", *self._outputs()]
        return [*lines, "", *self.summary()]

    # -- the tree ---------------------------------------------------------------------------------
    @cached_property
    def _children(self) -> dict[str, list[PlannedResource]]:
        """Parent URN -> children in plan order (computed once: every line of the tree asks)."""
        children: dict[str, list[PlannedResource]] = {}
        for resource in self.plan.recorder.in_order():
            children.setdefault(resource.parent_urn, []).append(resource)
        return children

    def _roots(self, only_request: bool) -> list[PlannedResource]:
        """Top-level resources (children of the stack, which the engine registers itself), those the
        request adds first."""
        recorded = {r.urn for r in self.plan.recorder.resources}
        top = [r for parent, children in self._children.items() if parent not in recorded for r in children]
        requested = [r for r in top if r.name in self.plan.request_pipelines]
        return requested if only_request else requested + [r for r in top if r not in requested]

    def _subtree(self, root: PlannedResource) -> Iterable[PlannedResource]:
        yield root
        for child in self._children.get(root.urn, []):
            yield from self._subtree(child)

    def _tree(self, resource: PlannedResource, depth: int) -> list[str]:
        lines = fitted(resource.name, short_type(resource.type), self.width, INDENT * depth)
        for child in self._children.get(resource.urn, []):
            lines += self._tree(child, depth + 1)
        return lines

    # -- outputs and summary ----------------------------------------------------------------------
    def _outputs(self) -> list[str]:
        return _output_lines(self.plan.outputs, self.width, "")

    def summary(self) -> list[str]:
        """Resources per top-level component and per type, what a request adds, the guardrail verdict."""
        roots = self._roots(only_request=False)
        components = [(f"{r.name} ({short_type(r.type)})", sum(1 for _ in self._subtree(r))) for r in roots]
        shown = [r for root in roots for r in self._subtree(root) if r.custom]
        types = Counter(short_type(r.type) for r in shown)
        return [
            f"summary of stack {self.plan.stack}",
            f"{INDENT}resources per component:",
            *in_columns(components, self.width, INDENT * 2),
            f"{INDENT}resources per type:",
            *per_service(types, self.width, INDENT * 2),
            *self._request_lines(),
            *(cost_lines(self.plan.cost, self.width, INDENT) if self.plan.cost is not None else []),
            *self._guardrail_lines(),
        ]

    def _request_lines(self) -> list[str]:
        if not self.plan.request_pipelines:
            return []
        added = self._roots(only_request=True)
        if not added:
            names = ", ".join(self.plan.request_pipelines)
            why = self._why_nothing_added()
            text = f"the request ({names}) adds nothing to this stack: {why}"
            return wrapped(text, self.width, INDENT)
        texts = [
            f"the request adds {sum(1 for _ in self._subtree(root))} resources, shown first: "
            f"{root.name} ({short_type(root.type)})"
            for root in added
        ]
        return [line for text in texts for line in wrapped(text, self.width, INDENT)]

    def _why_nothing_added(self) -> str:
        config = self.plan.config
        specs = [spec for spec in config.pipelines if spec.pipeline_id in self.plan.request_pipelines] if config else []
        if config is None or not specs:
            return "it deploys to other environments"
        return "; ".join(
            nothing_added_reason(spec, config.mode, config.orchestrator_environment, config.environment)
            for spec in specs
        )

    def _guardrail_lines(self) -> list[str]:
        """The resources' violations (components/guardrails/), then the estimates above the cost limit."""
        violations = [str(v) for v in self.plan.violations()] + self.plan.cost_violations()
        if not violations:
            return [f"{INDENT}guardrails: passed (components/guardrails/)"]
        lines = [f"{INDENT}guardrails: {len(violations)} violation(s)"]
        return lines + [line for v in violations for line in wrapped(v, self.width, INDENT * 2)]


def render(plan: StackPlan, width: int, only_request: bool = False) -> str:
    return "\n".join(PlanText(plan, width).lines(only_request))


def _output_lines(outputs: dict[str, Any], width: int, indent: str) -> list[str]:
    """`key: value` lines; a map's entries below its key, one level deeper; a value too long for the
    line on the next, near the margin (an ARN or URL is one word: it is never broken)."""
    lines = []
    for key, value in sorted(outputs.items()):
        if isinstance(value, dict) and value:
            lines += [f"{indent}{key}:", *_output_lines(value, width, indent + INDENT)]
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
            line = f"{indent}{key}:  {text}"
            pad = " " * max(len(INDENT), min(len(indent) + len(INDENT), width - len(text)))
            lines += [line] if len(line) <= width else [f"{indent}{key}:", f"{pad}{text}"]
    return lines


def nothing_added_reason(spec: PipelineSpec, mode: str, home: str, environment: str) -> str:
    """Why a request's pipeline adds no resource to the stack of `environment`: it deploys elsewhere
    (training and image builds only ever run in the orchestrator's environment), or, in multi-account
    mode, its resources there are its delivery pipeline's to deploy."""
    environments = spec.environments(mode, home=home)  # type: ignore[arg-type]
    if environment not in environments:
        where = ", ".join(environments)
        only_home = mode == "multi" and not spec.MULTI_ACCOUNT
        note = f" (a {spec.pipeline_type} pipeline runs in the orchestrator's environment only)" if only_home else ""
        return f"it deploys to {where} only{note}"
    return f"its resources in {environment} are deployed by its delivery pipeline (plan them with --delivery)"

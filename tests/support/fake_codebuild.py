"""CodeBuild as the provisioner and the sweep see it: builds per project, started and stopped on demand
(moto's builds have all finished at once, and it cannot stop one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _not_found(what: str) -> Exception:
    error = Exception(what)
    error.response = {"Error": {"Code": "ResourceNotFoundException"}}  # type: ignore[attr-defined]
    return error


@dataclass
class FakeCodeBuild:
    """A stopped build finishes after `stops_after` more status reads; started builds keep their
    variable overrides (`started`), and a start repeated with the same idempotency token is one build."""

    builds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stops_after: int = 1
    stop_requests: list[str] = field(default_factory=list)
    reads_since_stop: dict[str, int] = field(default_factory=dict)
    journal: list[str] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def add(self, project: str, build_id: str, status: str = "IN_PROGRESS") -> None:
        self.builds.setdefault(project, []).insert(0, {"id": build_id, "buildStatus": status})

    def finish(self, build_id: str, status: str) -> None:
        for runs in self.builds.values():
            for build in runs:
                if build["id"] == build_id:
                    build["buildStatus"] = status

    def start_build(
        self, projectName: str, environmentVariablesOverride: list[dict[str, str]], idempotencyToken: str
    ) -> dict[str, Any]:
        variables = {v["name"]: v["value"] for v in environmentVariablesOverride}
        if idempotencyToken in self.tokens:
            # CodeBuild answers a repeated token with the same build, or refuses other parameters.
            [earlier] = [b for b in self.started if b["id"] == self.tokens[idempotencyToken]]
            if earlier["variables"] != variables:
                error = Exception("idempotency token reused with different parameters")
                error.response = {"Error": {"Code": "InvalidInputException"}}  # type: ignore[attr-defined]
                raise error
            return {"build": {"id": self.tokens[idempotencyToken]}}
        build_id = f"{projectName}:{len(self.started) + 1:04d}"
        self.add(projectName, build_id)
        self.tokens[idempotencyToken] = build_id
        self.started.append({"id": build_id, "project": projectName, "variables": variables})
        self.journal.append(f"start {build_id}")
        return {"build": {"id": build_id}}

    def list_builds_for_project(self, projectName: str, sortOrder: str = "DESCENDING") -> dict[str, Any]:
        if projectName not in self.builds:
            raise _not_found("no such project")
        return {"ids": [b["id"] for b in self.builds[projectName]]}

    def batch_get_builds(self, ids: list[str]) -> dict[str, Any]:
        found = [b for runs in self.builds.values() for b in runs if b["id"] in ids]
        for build in found:
            if build["id"] in self.reads_since_stop:
                self.reads_since_stop[build["id"]] += 1
                if self.reads_since_stop[build["id"]] > self.stops_after:
                    build["buildStatus"] = "STOPPED"
        return {"builds": [dict(b) for b in found]}

    def stop_build(self, id: str) -> dict[str, Any]:
        self.stop_requests.append(id)
        self.journal.append(f"stop {id}")
        self.reads_since_stop[id] = 0
        return {"build": {"id": id}}

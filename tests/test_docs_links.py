"""The README and docs/*.md point at what exists (issue 13, "Docs"): every relative link names an existing
file (and heading, when it has an anchor), every API route they name (`POST /pipelinestatus`, a curl or
awscurl call to `$MLOPS_API_URL/...`) is one of mlops_spec/routes.py, and every `mlops <command>` they
show is a command of the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from mlops_cli.main import app
from mlops_spec.routes import ROUTES

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```[^\n]*$", re.MULTILINE | re.DOTALL)  # also in list items
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
METHOD_AND_PATH = re.compile(r"\b(GET|POST|PUT|DELETE|PATCH)\s+(/[A-Za-z0-9_{}/-]*)")
API_URL = re.compile(r"\$\{?MLOPS_API_URL\}?(/[^\s\"'?]*)")
MLOPS_COMMAND = re.compile(r"(?:^|[\s|;&(`])(?:\.venv/bin/)?mlops\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")
REQUEST_METHOD = re.compile(r"(?:-X|--request)\s+([A-Z]+)")
SENDS_DATA = re.compile(r"\s(?:-d|--data|--data-binary|--data-raw)\s")


def prose(text: str) -> str:
    """The text without its fenced code blocks (where `[x](y)` or `# ...` are code, not markdown)."""
    return FENCE.sub("", text)


def code_blocks(text: str) -> list[str]:
    return [match.group(0) for match in FENCE.finditer(text)]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors_of(document: Path) -> set[str]:
    anchors: set[str] = set()
    for heading in HEADING.findall(prose(document.read_text())):
        anchor, count = github_anchor(heading), 0
        while (anchor if count == 0 else f"{anchor}-{count}") in anchors:  # repeated headings: -1, -2, ...
            count += 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


def broken_links(document: Path) -> list[str]:
    """Each relative link of `document` whose file, or heading, does not exist."""
    broken = []
    for target in LINK.findall(prose(document.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors_of(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


def commands(block: str) -> Iterator[str]:
    """The shell commands of a code block, continuation lines joined."""
    yield from block.replace("\\\n", " ").splitlines()


def named_routes(text: str) -> set[tuple[str, str]]:
    """(method, path) of every route the text names: `POST /path` anywhere, and each command calling
    `$MLOPS_API_URL/path` (its -X method; else POST when it sends data, else GET)."""
    named = set(METHOD_AND_PATH.findall(text))
    for block in code_blocks(text):
        for command in commands(block):
            for path in API_URL.findall(command):
                method = REQUEST_METHOD.search(command)
                default = "POST" if SENDS_DATA.search(f" {command} ") else "GET"
                named.add((method.group(1) if method else default, path))
    return named


def is_a_route(method: str, path: str) -> bool:
    for route in ROUTES:
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(route.path))
        if route.method == method and re.fullmatch(pattern, path.rstrip("/") or "/"):
            return True
    return False


def mlops_commands(text: str) -> set[tuple[str, str | None]]:
    """(command, next word) of every `mlops ...` shown in code: fenced blocks and inline code."""
    code = [line for block in code_blocks(text) for line in commands(block)] + INLINE_CODE.findall(prose(text))
    return {(match[0], match[1] or None) for snippet in code for match in MLOPS_COMMAND.findall(snippet)}


def unknown_commands(shown: set[tuple[str, str | None]]) -> list[str]:
    cli = typer.main.get_command(app)
    known = cli.commands  # type: ignore[attr-defined]
    unknown = []
    for command, word in sorted(shown, key=str):
        if command not in known:
            unknown.append(f"mlops {command}")
        elif hasattr(known[command], "commands") and word not in known[command].commands:
            unknown.append(f"mlops {command} {word}")
    return unknown


@pytest.mark.fast
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_points_at_an_existing_file_and_heading(document: Path) -> None:
    assert broken_links(document) == []


@pytest.mark.fast
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_route_named_is_a_route_of_the_api(document: Path) -> None:
    named = named_routes(document.read_text())
    assert [f"{method} {path}" for method, path in sorted(named) if not is_a_route(method, path)] == []


@pytest.mark.fast
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_mlops_command_shown_exists(document: Path) -> None:
    assert unknown_commands(mlops_commands(document.read_text())) == []


@pytest.mark.fast
def test_the_docs_show_the_api_called_with_curl_and_awscurl() -> None:
    readme = (REPO / "README.md").read_text()
    routes = named_routes(readme)
    for needed in [
        ("POST", "/provisionpipeline"),
        ("GET", "/pipelines/churn-xgb-realtime-builtin"),
        ("POST", "/pipelines/churn-xgb-realtime-builtin/approval"),
    ]:
        assert needed in routes
    assert 'curl --aws-sigv4 "aws:amz:$AWS_REGION:execute-api"' in readme
    assert "awscurl --service execute-api" in readme
    for document in ("bootstrapping.md", "upgrade-and-uninstall.md", "migrating-from-mwo.md"):
        assert f"(docs/{document})" in readme


@pytest.mark.fast
def test_the_checks_catch_a_broken_link_an_unknown_route_and_an_unknown_command(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Only heading\n")
    document = tmp_path / "doc.md"
    document.write_text(
        "[gone](missing.md) [bad anchor](other.md#nope) [fine](other.md#only-heading) [web](https://x.org)\n"
        "`GET /pipelinez` and `DELETE /pipelines/{id}`\n"
        "```bash\n"
        'curl --aws-sigv4 "aws:amz:r:execute-api" \\\n  --data-binary @x.json "$MLOPS_API_URL/pipelines/p1"\n'
        "mlops stauts p1\nmlops modelcard frobnicate c\nmlops modelcard list\n"
        "```\n"
    )
    assert broken_links(document) == ["missing.md: no such file", "other.md#nope: no heading #nope in other.md"]
    routes = named_routes(document.read_text())
    assert sorted(route for route in routes if not is_a_route(*route)) == [
        ("GET", "/pipelinez"),
        ("POST", "/pipelines/p1"),
    ]
    assert ("DELETE", "/pipelines/{id}") in routes
    assert unknown_commands(mlops_commands(document.read_text())) == ["mlops modelcard frobnicate", "mlops stauts"]
